// The JSON GraphQL route on plain node:http: `POST /graphql` with an application/json body goes straight to Apollo's
// executeHTTPGraphQLRequest, without express's router, body-parser, media-type negotiation and per-response ETag
// hashing (≈ 6 % of the event loop per small `embed` request in the profile, docs/serving.md). Everything Apollo
// enforces is unchanged (CSRF prevention, APQ, parse limits, armor rules, access rules, error masking), and the
// body limit and error shapes are the ones express.json gave: 413 / 400 BAD_USER_INPUT. Anything else (multipart
// uploads, GET, compressed or non-UTF-8 bodies) returns false and is served by the express app as before.
import type http from 'node:http';
import { type ApolloServer, HeaderMap } from '@apollo/server';
import { openRequestScope } from '../db/scope';
import type { GatewayContext } from './context';

export interface GraphqlRouteOptions {
  apollo: ApolloServer<GatewayContext>;
  /** Every operation but inference (MAX_BODY_BYTES); anonymous callers never get more. */
  maxBodyBytes: number;
  /** What is read at most (MAX_INFERENCE_BODY_BYTES); the body-limit plugin refuses other operations over maxBodyBytes. */
  maxInferenceBodyBytes: number;
  buildContext(headers: http.IncomingHttpHeaders, extra: { bodyBytes: number }): Promise<GatewayContext>;
  onError(err: unknown): void;
}

function sendJson(res: http.ServerResponse, status: number, body: string, headers?: Iterable<[string, string]>): void {
  if (headers) for (const [k, v] of headers) res.setHeader(k, v);
  if (!res.hasHeader('content-type')) res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('content-length', Buffer.byteLength(body));
  res.statusCode = status;
  res.end(body);
}

function requestError(res: http.ServerResponse, status: number, message: string): void {
  sendJson(res, status, JSON.stringify({ errors: [{ message, extensions: { code: 'BAD_USER_INPUT' } }] }));
}

/** Whether this route serves the request: a JSON POST to /graphql in UTF-8, not compressed. */
function accepts(req: http.IncomingMessage): boolean {
  if (req.method !== 'POST') return false;
  const url = req.url ?? '';
  const q = url.indexOf('?');
  if ((q < 0 ? url : url.slice(0, q)) !== '/graphql') return false;
  const type = (req.headers['content-type'] ?? '').toLowerCase();
  if (!type.startsWith('application/json')) return false;
  const charset = /charset=([^;\s]+)/.exec(type)?.[1];
  if (charset && charset !== 'utf-8' && charset !== 'utf8') return false;
  const encoding = req.headers['content-encoding'];
  return !encoding || encoding === 'identity';
}

export function graphqlRoute(opts: GraphqlRouteOptions): (req: http.IncomingMessage, res: http.ServerResponse) => boolean {
  return (req, res) => {
    if (!accepts(req)) return false;
    const declared = Number(req.headers['content-length'] ?? NaN);
    // Anonymous callers cannot run inference, so they never get more than the ordinary limit (nothing is read).
    const limit = req.headers.authorization ? opts.maxInferenceBodyBytes : opts.maxBodyBytes;
    const tooLarge = () => (limit === opts.maxBodyBytes
      ? `Request body exceeds ${opts.maxBodyBytes} bytes (MAX_BODY_BYTES)`
      : `Request body exceeds ${opts.maxInferenceBodyBytes} bytes (MAX_INFERENCE_BODY_BYTES; other operations: ${opts.maxBodyBytes}, MAX_BODY_BYTES)`);
    if (declared > limit) {
      requestError(res, 413, tooLarge());
      req.resume();
      return true;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on('data', (chunk: Buffer) => {
      if (refused) return;
      size += chunk.length;
      if (size > limit) {
        refused = true;
        requestError(res, 413, tooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (refused) return;
      void handle(opts, req, res, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    });
    req.on('error', (err) => opts.onError(err));
    return true;
  };
}

async function handle(opts: GraphqlRouteOptions, req: http.IncomingMessage, res: http.ServerResponse, raw: Buffer): Promise<void> {
  let body: unknown = {};
  if (raw.length > 0) {
    // express.json's strict mode: only objects and arrays are JSON request bodies.
    const text = raw.toString('utf8');
    const first = /\S/.exec(text)?.[0];
    try {
      if (first !== '{' && first !== '[') throw new SyntaxError('not an object');
      body = JSON.parse(text);
    } catch {
      return requestError(res, 400, 'Request body is not valid JSON');
    }
  }
  try {
    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
    }
    const url = req.url ?? '';
    const q = url.indexOf('?');
    // A DbScope around the whole operation; buildContext fills it with the caller's tenant (src/db/scope.ts).
    const response = await openRequestScope(() => opts.apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: 'POST', headers, search: q < 0 ? '' : url.slice(q), body },
      context: () => opts.buildContext(req.headers, { bodyBytes: raw.length }),
    }));
    if (response.body.kind === 'complete') return sendJson(res, response.status ?? 200, response.body.string, response.headers);
    for (const [k, v] of response.headers) res.setHeader(k, v);
    res.statusCode = response.status ?? 200;
    for await (const chunk of response.body.asyncIterator) res.write(chunk);
    res.end();
  } catch (err) {
    opts.onError(err);
    if (!res.headersSent) sendJson(res, 500, JSON.stringify({ errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL' } }] }));
    else res.end();
  }
}
