// The object-store contract, run against every adapter (local folder; S3 protocol via s3rver on loopback).
// Code above the adapters relies on exactly these behaviours.
import crypto from 'node:crypto';
import { Readable } from 'node:stream';
import { ObjectNotFoundError, tenantKey, type ObjectStore } from '../../src/storage';
import { InvalidKeyError, InvalidPartError } from '../../src/storage/types';

/** Upload ids of the multipart uploads in progress under a prefix (the store lists them page by page). */
async function uploadsUnder(store: ObjectStore, prefix: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const u of store.listMultipartUploads(prefix)) ids.push(u.uploadId);
  return ids;
}

async function readAll(s: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks);
}

export interface StoreCapabilities {
  /** ListParts, AbortMultipartUpload and ListMultipartUploads (s3rver implements none of them). */
  multipartAdmin: boolean;
}

export function defineStoreContract(
  name: string,
  open: () => Promise<{ store: ObjectStore; close(): Promise<void> }>,
  caps: StoreCapabilities = { multipartAdmin: true },
): void {
  const adminTest = caps.multipartAdmin ? test : test.skip;
  describe(`object store contract: ${name}`, () => {
    let store: ObjectStore;
    let close: () => Promise<void>;
    const tenant = crypto.randomUUID();
    const k = (...parts: string[]) => tenantKey(tenant, ...parts);

    beforeAll(async () => {
      ({ store, close } = await open());
    });
    afterAll(async () => {
      await close?.();
    });

    test('put/get/head/delete round trip with content type and md5 ETag', async () => {
      const body = Buffer.from('hello pretext');
      const put = await store.put(k('a', 'hello.txt'), body, { contentType: 'text/plain' });
      expect(put.bytes).toBe(body.length);
      expect(put.etag.replace(/"/g, '')).toBe(crypto.createHash('md5').update(body).digest('hex'));
      expect(await readAll(await store.get(k('a', 'hello.txt')))).toEqual(body);
      const head = await store.head(k('a', 'hello.txt'));
      expect(head).toMatchObject({ key: k('a', 'hello.txt'), bytes: body.length, contentType: 'text/plain' });
      await store.delete(k('a', 'hello.txt'));
      expect(await store.head(k('a', 'hello.txt'))).toBeNull();
      await expect(store.get(k('a', 'hello.txt'))).rejects.toBeInstanceOf(ObjectNotFoundError);
      await store.delete(k('a', 'hello.txt')); // deleting a missing key is not an error
    });

    test('streams a multi-part body without buffering it and reads byte ranges', async () => {
      // 9 MiB through a stream: more than one 8 MiB part for S3's managed upload.
      const chunk = crypto.randomBytes(1024 * 1024);
      const hash = crypto.createHash('sha256');
      const source = Readable.from(
        (function* () {
          for (let i = 0; i < 9; i++) {
            hash.update(chunk);
            yield chunk;
          }
        })(),
      );
      const put = await store.put(k('big.bin'), source);
      expect(put.bytes).toBe(9 * chunk.length);
      const back = crypto.createHash('sha256');
      for await (const c of await store.get(k('big.bin'))) back.update(c as Buffer);
      expect(back.digest('hex')).toBe(hash.digest('hex'));
      const range = await readAll(await store.get(k('big.bin'), { start: 10, end: 19 }));
      expect(range).toEqual(chunk.subarray(10, 20));
    });

    test('lists by prefix in key order, copies, and deletes a prefix', async () => {
      for (const n of ['c', 'a', 'b']) await store.put(k('list', n), n);
      await store.put(k('listing-other'), 'x');
      const keys: string[] = [];
      for await (const o of store.list(`${k('list')}/`)) keys.push(o.key);
      expect(keys).toEqual([k('list', 'a'), k('list', 'b'), k('list', 'c')]);
      // Resuming after a key (S3's StartAfter; the reconciler's cursor), also after a key that does not exist.
      const after: string[] = [];
      for await (const o of store.list(`${k('list')}/`, { startAfter: k('list', 'a') })) after.push(o.key);
      expect(after).toEqual([k('list', 'b'), k('list', 'c')]);
      const between: string[] = [];
      for await (const o of store.list(`${k('list')}/`, { startAfter: k('list', 'bb') })) between.push(o.key);
      expect(between).toEqual([k('list', 'c')]);
      await store.copy(k('list', 'a'), k('copy', 'a'));
      expect((await readAll(await store.get(k('copy', 'a')))).toString()).toBe('a');
      await expect(store.copy(k('list', 'missing'), k('copy', 'x'))).rejects.toBeInstanceOf(ObjectNotFoundError);
      expect(await store.deletePrefix(`${k('list')}/`)).toBe(3);
      const left: string[] = [];
      for await (const o of store.list(`${k('list')}/`)) left.push(o.key);
      expect(left).toEqual([]);
      expect(await store.head(k('listing-other'))).not.toBeNull();
    });

    test('lists past one page', async () => {
      const n = 1005; // S3 pages at 1000 keys
      for (let start = 0; start < n; start += 25) {
        const batch = Array.from({ length: Math.min(25, n - start) }, (_, j) => start + j);
        await Promise.all(batch.map((i) => store.put(k('many', `o${String(i).padStart(5, '0')}`), '')));
      }
      let count = 0;
      for await (const _ of store.list(`${k('many')}/`)) count += 1;
      expect(count).toBe(n);
      expect(await store.deletePrefix(`${k('many')}/`)).toBe(n);
    });

    test('rejects keys that could escape their prefix', async () => {
      for (const bad of ['../etc/passwd', 'tenants/x/../../y', '/abs', 'a//b', 'a/.hidden', 'a/b c']) {
        await expect(store.put(bad, 'x')).rejects.toBeInstanceOf(InvalidKeyError);
      }
      expect(() => tenantKey(tenant, '..')).toThrow(InvalidKeyError);
    });

    test('presigned GET and PUT work with a plain HTTP client', async () => {
      const putUrl = await store.presignPut(k('presigned.txt'), 60);
      const res = await fetch(putUrl, { method: 'PUT', body: 'via url' });
      expect(res.status).toBe(200);
      const getUrl = await store.presignGet(k('presigned.txt'), 60);
      const got = await fetch(getUrl);
      expect(got.status).toBe(200);
      expect(await got.text()).toBe('via url');
    });

    const uploadParts = async (key: string) => {
      const uploadId = await store.createMultipart(key, 'application/octet-stream');
      const part1 = crypto.randomBytes(5 * 1024 * 1024); // S3's minimum non-final part size
      const part2 = crypto.randomBytes(1234);
      const put = async (n: number, body: Buffer) => {
        const res = await fetch(await store.presignPart(key, uploadId, n, 60), { method: 'PUT', body });
        expect(res.status).toBe(200);
        return res.headers.get('etag')!;
      };
      const e1 = await put(1, part1);
      const e2 = await put(2, part2);
      return { uploadId, part1, part2, e1, e2 };
    };

    test('multipart upload through presigned part URLs completes into one object', async () => {
      const key = k('mp', 'simple.bin');
      const { uploadId, part1, part2, e1, e2 } = await uploadParts(key);
      await expect(store.completeMultipart(key, uploadId, [{ partNumber: 2, etag: e2 }, { partNumber: 1, etag: e1 }])).rejects.toBeInstanceOf(InvalidPartError);
      await store.completeMultipart(key, uploadId, [{ partNumber: 1, etag: e1 }, { partNumber: 2, etag: e2 }]);
      const whole = await readAll(await store.get(key));
      expect(whole.equals(Buffer.concat([part1, part2]))).toBe(true);
    });

    adminTest('multipart resume (list parts) and completion that verifies every ETag', async () => {
      const key = k('mp', 'file.bin');
      const { uploadId, part1, part2, e1, e2 } = await uploadParts(key);
      // An interrupted client resumes by listing what already arrived.
      const listed = await store.listParts(key, uploadId);
      expect(listed.map((p) => [p.partNumber, p.bytes])).toEqual([
        [1, part1.length],
        [2, part2.length],
      ]);
      expect(listed[0]!.etag.replace(/"/g, '')).toBe(e1.replace(/"/g, ''));
      expect((await uploadsUnder(store, `${k('mp')}/`))).toContain(uploadId);

      await expect(store.completeMultipart(key, uploadId, [{ partNumber: 1, etag: e1 }, { partNumber: 1, etag: e1 }])).rejects.toBeInstanceOf(InvalidPartError);
      await expect(store.completeMultipart(key, uploadId, [{ partNumber: 1, etag: e1 }, { partNumber: 2, etag: '"deadbeef"' }])).rejects.toBeInstanceOf(InvalidPartError);
      await expect(store.completeMultipart(key, uploadId, [{ partNumber: 3, etag: e2 }])).rejects.toBeInstanceOf(InvalidPartError);
      expect(await store.head(key)).toBeNull(); // failed completions write nothing

      await store.completeMultipart(key, uploadId, [{ partNumber: 1, etag: e1 }, { partNumber: 2, etag: e2 }]);
      expect((await readAll(await store.get(key))).equals(Buffer.concat([part1, part2]))).toBe(true);
      expect((await uploadsUnder(store, `${k('mp')}/`))).not.toContain(uploadId);
    });

    adminTest('abandoned multipart uploads can be found and aborted', async () => {
      const key = k('mp', 'abandoned.bin');
      const uploadId = await store.createMultipart(key);
      await fetch(await store.presignPart(key, uploadId, 1, 60), { method: 'PUT', body: 'partial' });
      await store.abortMultipart(key, uploadId);
      expect((await uploadsUnder(store, `${k('mp')}/`))).not.toContain(uploadId);
      expect(await store.head(key)).toBeNull();
    });

    test('ping succeeds when reachable', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });
  });
}
