// Reading a JSON request body on plain node:http, for the routes that skip express (graphql-http.ts,
// rest-embeddings.ts): the same limit and strictness express.json applied, without its per-request middleware cost.
import type http from 'node:http';

/** Whether the request is a POST of an uncompressed UTF-8 JSON body to exactly `path` (a query string is allowed). */
export function isJsonPost(req: http.IncomingMessage, path: string): boolean {
  if (req.method !== 'POST') return false;
  const url = req.url ?? '';
  const q = url.indexOf('?');
  if ((q < 0 ? url : url.slice(0, q)) !== path) return false;
  const type = (req.headers['content-type'] ?? '').toLowerCase();
  if (!type.startsWith('application/json')) return false;
  const charset = /charset=([^;\s]+)/.exec(type)?.[1];
  if (charset && charset !== 'utf-8' && charset !== 'utf8') return false;
  const encoding = req.headers['content-encoding'];
  return !encoding || encoding === 'identity';
}

export interface BodyHandlers {
  onBody(raw: Buffer): void;
  /** Called once when the declared or received size passes the limit; the rest of the body is not kept. */
  onTooLarge(): void;
  onError(err: unknown): void;
}

/** Reads at most `limit` bytes of body (a declared content-length over it is refused before reading anything). */
export function readRequestBody(req: http.IncomingMessage, limit: number, h: BodyHandlers): void {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > limit) {
    h.onTooLarge();
    req.resume();
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let refused = false;
  req.on('data', (chunk: Buffer) => {
    if (refused) return;
    size += chunk.length;
    if (size > limit) {
      refused = true;
      h.onTooLarge();
      return;
    }
    chunks.push(chunk);
  });
  req.on('end', () => {
    if (!refused) h.onBody(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
  });
  req.on('error', (err) => h.onError(err));
}

/** express.json's strict mode: only objects and arrays are JSON request bodies; an empty body is `{}`. */
export function parseJsonBody(raw: Buffer): { ok: true; value: unknown } | { ok: false } {
  if (raw.length === 0) return { ok: true, value: {} };
  const text = raw.toString('utf8');
  const first = /\S/.exec(text)?.[0];
  if (first !== '{' && first !== '[') return { ok: false };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

/** Sends a JSON string with its length (extra headers first; a content-type among them wins). */
export function sendJson(res: http.ServerResponse, status: number, body: string, headers?: Iterable<[string, string]>): void {
  if (headers) for (const [k, v] of headers) res.setHeader(k, v);
  if (!res.hasHeader('content-type')) res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('content-length', Buffer.byteLength(body));
  res.statusCode = status;
  res.end(body);
}
