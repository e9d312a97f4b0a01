// POST /v1/embeddings: the OpenAI embeddings request/response shape, so existing OpenAI clients can point their
// base URL at Pretext. Same auth, service, limits and runtime path as the GraphQL `embed` query.
// `input` is a string or a list of strings (text models), or — a Pretext extension for image and sequence models —
// a list of EmbedInput objects ({ image } / { pixels: { base64, shape } } / { sequence } / { tensor }).
// `encoding_format: "base64"` answers packed float32 (little-endian), as OpenAI's clients expect.
// Served on plain node:http by the HTTP server (embeddingsRoute) and on express by the Lambda handler's REST app
// (embeddingsRouter); both call the one handler below, so the answers are the same bytes.
import type http from 'node:http';
import express, { type Router } from 'express';
import { openRequestScope } from '../db/scope';
import { AppError } from '../errors';
import { LookupCache } from '../modules/cache/lookup-cache';
import type { Platform } from '../platform';
import { isJsonPost, parseJsonBody, readRequestBody, sendJson } from './request-body';

/** Model names by id, so a request does not query the registry for the name it echoes back. */
const NAME_TTL_MS = 60_000;

const STATUS: Record<string, number> = { UNAUTHENTICATED: 401, FORBIDDEN: 403, NOT_FOUND: 404, BAD_USER_INPUT: 400, QUOTA_EXCEEDED: 429, RATE_LIMITED: 429, CONFLICT: 409 };

const INPUT_KEYS = new Set(['text', 'image', 'pixels', 'sequence', 'tensor']);

/** Strings → text inputs; objects with exactly the EmbedInput keys pass through; anything else is null. */
function parseInputs(input: unknown): Array<Record<string, unknown>> | null {
  if (typeof input === 'string') return [{ text: input }];
  if (!Array.isArray(input) || input.length === 0) return null;
  const out: Array<Record<string, unknown>> = [];
  for (const x of input) {
    if (typeof x === 'string') out.push({ text: x });
    else if (x && typeof x === 'object' && !Array.isArray(x) && Object.keys(x).every((k) => INPUT_KEYS.has(k))) out.push(x as Record<string, unknown>);
    else return null;
  }
  return out;
}

/** One answer of the route, whatever the transport: status, OpenAI-shaped JSON body and extra headers. */
export interface RestReply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

function openAiError(status: number, type: string, message: string, code: string | null = null): RestReply {
  return { status, body: { error: { message, type, param: null, code } } };
}

/** The route's logic for a parsed JSON body: the express router (Lambda) and the node:http route share it. */
export function embeddingsHandler(platform: Platform): (headers: Record<string, string | string[] | undefined>, body: unknown) => Promise<RestReply> {
  // Model names by model id for the response's `model` field; one lookup per model in flight.
  const names = new LookupCache<string>({ ttlMs: NAME_TTL_MS, refreshAfterMs: NAME_TTL_MS / 2 });
  const modelName = (version: Parameters<typeof platform.services.models.modelOf>[0]) =>
    names.get(version.modelId, async () => (await platform.services.models.modelOf(version)).name);
  // The request runs in a DbScope filled by buildContext: its queries are the caller's tenant's, under RLS.
  return (headers, raw) => openRequestScope(async (): Promise<RestReply> => {
    try {
      const ctx = await platform.buildContext(headers);
      if (ctx.principal.kind === 'tenant') await platform.services.limits.consume(ctx.principal.tenantId, 'requests', 1);
      const body = (raw && typeof raw === 'object' && !Array.isArray(raw) ? raw : {}) as { model?: unknown; input?: unknown; dimensions?: unknown; encoding_format?: unknown };
      if (typeof body.model !== 'string' || !body.model) return openAiError(400, 'invalid_request_error', 'model is required (a model id or name[@alias])');
      const inputs = parseInputs(body.input);
      if (!inputs) {
        return openAiError(
          400,
          'invalid_request_error',
          'input must be a string or a non-empty array of strings (token arrays are not supported), or for image and sequence models a non-empty array of { image } / { pixels } / { sequence } / { tensor } objects',
        );
      }
      const format = body.encoding_format ?? 'float';
      if (format !== 'float' && format !== 'base64') return openAiError(400, 'invalid_request_error', 'encoding_format must be "float" or "base64"');
      if (body.dimensions !== undefined && (typeof body.dimensions !== 'number' || !Number.isInteger(body.dimensions))) {
        return openAiError(400, 'invalid_request_error', 'dimensions must be an integer');
      }
      const out = await platform.services.serving.embed(ctx.principal, {
        model: body.model,
        inputs: inputs as never,
        options: { encoding: format === 'base64' ? 'BASE64' : 'FLOAT', ...(body.dimensions !== undefined ? { dimensions: body.dimensions as number } : {}) },
      });
      const name = await modelName(out.modelVersion);
      const tokens = inputs.reduce((n, x) => n + (typeof x.text === 'string' ? x.text.split(/\s+/).filter(Boolean).length : 0), 0);
      return {
        status: 200,
        body: {
          object: 'list',
          data: out.embeddings.map((e) => ({ object: 'embedding', index: e.index, embedding: 'base64' in e ? e.base64 : (e as { values: number[] }).values })),
          model: `${name}@v${out.modelVersion.version}`,
          usage: { prompt_tokens: tokens, total_tokens: tokens },
        },
      };
    } catch (err) {
      if (err instanceof AppError) {
        const retry = err.extensions.retryAfterSeconds;
        const status = STATUS[err.code] ?? 500;
        const reply = openAiError(status, status === 401 ? 'authentication_error' : status >= 500 ? 'server_error' : 'invalid_request_error', err.message, err.code);
        return typeof retry === 'number' ? { ...reply, headers: { 'retry-after': String(retry) } } : reply;
      }
      platform.log.error({ err }, '/v1/embeddings failed');
      return openAiError(500, 'server_error', 'Internal server error');
    }
  });
}

const tooLarge = (limit: number) => openAiError(413, 'invalid_request_error', `Request body exceeds ${limit} bytes (MAX_INFERENCE_BODY_BYTES)`);
const notJson = () => openAiError(400, 'invalid_request_error', 'Request body is not valid JSON');

/** The route on express (the Lambda handler's REST app), with body-parser failures in the OpenAI error shape. */
export function embeddingsRouter(platform: Platform, handle = embeddingsHandler(platform)): Router {
  const router = express.Router();
  const limit = platform.config.limits.maxInferenceBodyBytes;
  const send = (res: express.Response, r: RestReply) => res.status(r.status).set(r.headers ?? {}).json(r.body);
  router.post('/v1/embeddings', express.json({ limit }), async (req, res) => send(res, await handle(req.headers, req.body)));
  router.use('/v1/embeddings', (err: Error & { type?: string }, _req: express.Request, res: express.Response, next: express.NextFunction) => {
    if (err.type === 'entity.too.large') return send(res, tooLarge(limit));
    if (err.type === 'entity.parse.failed') return send(res, notJson());
    return next(err);
  });
  return router;
}

/**
 * The same route on plain node:http for the HTTP server: a JSON POST to /v1/embeddings skips express's app, router,
 * body parser and response ETag (the per-request layers docs/serving.md measured on the GraphQL route). Returns false
 * for any other request, which the express app then serves.
 */
export function embeddingsRoute(platform: Platform, handle = embeddingsHandler(platform)): (req: http.IncomingMessage, res: http.ServerResponse) => boolean {
  const limit = platform.config.limits.maxInferenceBodyBytes;
  const reply = (res: http.ServerResponse, r: RestReply) => sendJson(res, r.status, JSON.stringify(r.body), Object.entries(r.headers ?? {}));
  return (req, res) => {
    if (!isJsonPost(req, '/v1/embeddings')) return false;
    readRequestBody(req, limit, {
      onTooLarge: () => reply(res, tooLarge(limit)),
      onBody: (raw) => {
        const parsed = parseJsonBody(raw);
        if (!parsed.ok) return reply(res, notJson());
        handle(req.headers, parsed.value).then(
          (r) => reply(res, r),
          (err: unknown) => {
            platform.log.error({ err }, '/v1/embeddings failed');
            if (!res.headersSent) reply(res, openAiError(500, 'server_error', 'Internal server error'));
          },
        );
      },
      onError: (err) => platform.log.error({ err }, 'unhandled HTTP error'),
    });
    return true;
  };
}
