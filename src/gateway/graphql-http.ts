// The JSON GraphQL route on plain node:http: `POST /graphql` with an application/json body goes straight to Apollo's
// executeHTTPGraphQLRequest, without express's router, body-parser, media-type negotiation and per-response ETag
// hashing (≈ 6 % of the event loop per small `embed` request in the profile, docs/serving.md). Everything Apollo
// enforces is unchanged (CSRF prevention, APQ, parse limits, armor rules, access rules, error masking), and the
// body limit and error shapes are the ones express.json gave: 413 / 400 BAD_USER_INPUT. Anything else (multipart
// uploads, GET, compressed or non-UTF-8 bodies) returns false and is served by the express app as before.
import type http from 'node:http';
import { type ApolloServer, HeaderMap } from '@apollo/server';
import { openRequestScope } from '../db/scope';
import { isJsonPost, parseJsonBody, readRequestBody, sendJson } from './request-body';
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

function requestError(res: http.ServerResponse, status: number, message: string): void {
  sendJson(res, status, JSON.stringify({ errors: [{ message, extensions: { code: 'BAD_USER_INPUT' } }] }));
}

export function graphqlRoute(opts: GraphqlRouteOptions): (req: http.IncomingMessage, res: http.ServerResponse) => boolean {
  return (req, res) => {
    if (!isJsonPost(req, '/graphql')) return false;
    // Anonymous callers cannot run inference, so they never get more than the ordinary limit (nothing is read).
    const limit = req.headers.authorization ? opts.maxInferenceBodyBytes : opts.maxBodyBytes;
    readRequestBody(req, limit, {
      onTooLarge: () => requestError(res, 413, limit === opts.maxBodyBytes
        ? `Request body exceeds ${opts.maxBodyBytes} bytes (MAX_BODY_BYTES)`
        : `Request body exceeds ${opts.maxInferenceBodyBytes} bytes (MAX_INFERENCE_BODY_BYTES; other operations: ${opts.maxBodyBytes}, MAX_BODY_BYTES)`),
      onBody: (raw) => void handle(opts, req, res, raw),
      onError: (err) => opts.onError(err),
    });
    return true;
  };
}

async function handle(opts: GraphqlRouteOptions, req: http.IncomingMessage, res: http.ServerResponse, raw: Buffer): Promise<void> {
  const parsed = parseJsonBody(raw);
  if (!parsed.ok) return requestError(res, 400, 'Request body is not valid JSON');
  const body = parsed.value;
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
