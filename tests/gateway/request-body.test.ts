// The JSON body reader of the node:http routes (src/gateway/request-body.ts) against a real node:http server on
// loopback: the limit holds for a declared length and for a streamed body, strict JSON parsing, the route predicate.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { isJsonPost, parseJsonBody, readRequestBody, sendJson } from '../../src/gateway/request-body';

const LIMIT = 64;
let server: http.Server;
let url: string;
const seen: Array<{ kind: 'body'; bytes: number } | { kind: 'tooLarge' }> = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    if (!isJsonPost(req, '/in')) return sendJson(res, 404, '{}');
    readRequestBody(req, LIMIT, {
      onBody: (raw) => {
        seen.push({ kind: 'body', bytes: raw.length });
        sendJson(res, 200, JSON.stringify({ parsed: parseJsonBody(raw) }));
      },
      onTooLarge: () => {
        seen.push({ kind: 'tooLarge' });
        sendJson(res, 413, '{"error":"too large"}');
      },
      onError: () => undefined,
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** Sends `chunks` with a declared length, or chunked (no content-length) when `declared` is null. */
function post(path: string, chunks: string[], declared: number | null, type = 'application/json'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { 'content-type': type };
    if (declared !== null) headers['content-length'] = declared;
    const req = http.request(`${url}${path}`, { method: 'POST', headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    for (const c of chunks) req.write(c);
    req.end();
  });
}

test('a body within the limit arrives whole and is parsed; JSON that is not an object or array is refused', async () => {
  const ok = await post('/in', ['{"a":', ' [1, 2]}'], null);
  expect(ok.status).toBe(200);
  expect(JSON.parse(ok.body)).toEqual({ parsed: { ok: true, value: { a: [1, 2] } } });
  expect(parseJsonBody(Buffer.alloc(0))).toEqual({ ok: true, value: {} });
  expect(parseJsonBody(Buffer.from('  [3]'))).toEqual({ ok: true, value: [3] });
  expect(parseJsonBody(Buffer.from('"text"'))).toEqual({ ok: false });
  expect(parseJsonBody(Buffer.from('{"a":'))).toEqual({ ok: false });
});

test('a declared length over the limit is refused before reading; a streamed body is refused once it passes the limit', async () => {
  seen.length = 0;
  const declared = await post('/in', ['x'.repeat(LIMIT + 1)], LIMIT + 1);
  expect(declared.status).toBe(413);
  const streamed = await post('/in', ['{"a":"', 'y'.repeat(LIMIT), '"}'], null);
  expect(streamed.status).toBe(413);
  expect(seen).toEqual([{ kind: 'tooLarge' }, { kind: 'tooLarge' }]);
});

test('only uncompressed UTF-8 JSON posts to the exact path are taken (a query string is allowed)', async () => {
  expect((await post('/in?x=1', ['{}'], null)).status).toBe(200);
  expect((await post('/in/more', ['{}'], null)).status).toBe(404);
  expect((await post('/in', ['{}'], null, 'text/plain')).status).toBe(404);
  expect((await post('/in', ['{}'], null, 'application/json; charset=latin1')).status).toBe(404);
  expect((await post('/in', ['{}'], null, 'application/json; charset=UTF-8')).status).toBe(200);
});
