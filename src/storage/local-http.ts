// HTTP endpoints behind the local object store's presigned URLs (GET object, PUT object, PUT multipart part).
// The signature and expiry are checked before any byte is read or written.
import express, { type Router } from 'express';
import { pipeline } from 'node:stream/promises';
import type { LocalObjectStore } from './local';
import { verify, type SignedOp } from './signing';
import { InvalidKeyError, InvalidPartError, ObjectNotFoundError } from './types';

export function localStorageRouter(store: LocalObjectStore, secret: string): Router {
  const router = express.Router();

  const params = (op: SignedOp, q: Record<string, unknown>) => {
    const str = (k: string) => (typeof q[k] === 'string' ? (q[k] as string) : undefined);
    const partNumber = str('partNumber');
    const uploadId = str('uploadId');
    return {
      op,
      key: str('key') ?? '',
      expires: Number(str('expires')),
      ...(uploadId ? { uploadId } : {}),
      ...(partNumber !== undefined ? { partNumber: Number(partNumber) } : {}),
      sig: str('sig') ?? '',
    };
  };

  const fail = (res: express.Response, status: number, code: string, message: string) => {
    res.status(status).json({ error: { code, message } });
  };

  const handle =
    (op: SignedOp, fn: (p: ReturnType<typeof params>, req: express.Request, res: express.Response) => Promise<void>) =>
    async (req: express.Request, res: express.Response) => {
      const p = params(op, req.query as Record<string, unknown>);
      const { sig, ...signed } = p;
      if (!verify(secret, signed, sig)) return fail(res, 403, 'FORBIDDEN', 'Signature invalid or URL expired');
      try {
        await fn(p, req, res);
      } catch (err) {
        if (err instanceof ObjectNotFoundError) return fail(res, 404, 'NOT_FOUND', err.message);
        if (err instanceof InvalidPartError || err instanceof InvalidKeyError) return fail(res, 400, 'BAD_USER_INPUT', err.message);
        if (!res.headersSent) return fail(res, 500, 'INTERNAL', 'Storage error');
        res.destroy(err as Error);
      }
    };

  router.get(
    '/get',
    handle('get', async (p, _req, res) => {
      const info = await store.head(p.key);
      if (!info) throw new ObjectNotFoundError(p.key);
      res.setHeader('content-length', String(info.bytes));
      res.setHeader('etag', info.etag);
      res.setHeader('content-type', info.contentType ?? 'application/octet-stream');
      await pipeline(await store.get(p.key), res);
    }),
  );
  router.put(
    '/put',
    handle('put', async (p, req, res) => {
      const ct = req.headers['content-type'];
      const out = await store.put(p.key, req, ct ? { contentType: ct } : {});
      res.setHeader('etag', out.etag);
      res.status(200).end();
    }),
  );
  router.put(
    '/part',
    handle('part', async (p, req, res) => {
      const out = await store.putPart(p.key, p.uploadId ?? '', p.partNumber ?? NaN, req);
      res.setHeader('etag', out.etag);
      res.status(200).end();
    }),
  );
  return router;
}
