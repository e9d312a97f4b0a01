// POST /v1/embeddings: the OpenAI embeddings request/response shape, so existing OpenAI clients can point their
// base URL at Pretext. Same auth, service, limits and runtime path as the GraphQL `embed` query.
// `input` is a string or a list of strings (text models), or — a Pretext extension for image and sequence models —
// a list of EmbedInput objects ({ image } / { pixels: { base64, shape } } / { sequence } / { tensor }).
// `encoding_format: "base64"` answers packed float32 (little-endian), as OpenAI's clients expect.
import express, { type Router } from 'express';
import { openRequestScope } from '../db/scope';
import { AppError } from '../errors';
import { LookupCache } from '../modules/cache/lookup-cache';
import type { Platform } from '../platform';

/** Model names by id, so a request does not query the registry for the name it echoes back. */
const NAME_TTL_MS = 60_000;

function openAiError(res: express.Response, status: number, type: string, message: string, code: string | null = null): void {
  res.status(status).json({ error: { message, type, param: null, code } });
}

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

export function embeddingsRouter(platform: Platform): Router {
  const router = express.Router();
  // Model names by model id for the response's `model` field; one lookup per model in flight.
  const names = new LookupCache<string>({ ttlMs: NAME_TTL_MS, refreshAfterMs: NAME_TTL_MS / 2 });
  const modelName = (version: Parameters<typeof platform.services.models.modelOf>[0]) =>
    names.get(version.modelId, async () => (await platform.services.models.modelOf(version)).name);
  // The request runs in a DbScope filled by buildContext: its queries are the caller's tenant's, under RLS.
  router.post('/v1/embeddings', express.json({ limit: platform.config.limits.maxInferenceBodyBytes }), (req, res) => openRequestScope(async () => {
    try {
      const ctx = await platform.buildContext(req.headers);
      if (ctx.principal.kind === 'tenant') await platform.services.limits.consume(ctx.principal.tenantId, 'requests', 1);
      const body = (req.body ?? {}) as { model?: unknown; input?: unknown; dimensions?: unknown; encoding_format?: unknown };
      if (typeof body.model !== 'string' || !body.model) return openAiError(res, 400, 'invalid_request_error', 'model is required (a model id or name[@alias])');
      const inputs = parseInputs(body.input);
      if (!inputs) {
        return openAiError(
          res,
          400,
          'invalid_request_error',
          'input must be a string or a non-empty array of strings (token arrays are not supported), or for image and sequence models a non-empty array of { image } / { pixels } / { sequence } / { tensor } objects',
        );
      }
      const format = body.encoding_format ?? 'float';
      if (format !== 'float' && format !== 'base64') return openAiError(res, 400, 'invalid_request_error', 'encoding_format must be "float" or "base64"');
      if (body.dimensions !== undefined && (typeof body.dimensions !== 'number' || !Number.isInteger(body.dimensions))) {
        return openAiError(res, 400, 'invalid_request_error', 'dimensions must be an integer');
      }
      const out = await platform.services.serving.embed(ctx.principal, {
        model: body.model,
        inputs: inputs as never,
        options: { encoding: format === 'base64' ? 'BASE64' : 'FLOAT', ...(body.dimensions !== undefined ? { dimensions: body.dimensions as number } : {}) },
      });
      const name = await modelName(out.modelVersion);
      const tokens = inputs.reduce((n, x) => n + (typeof x.text === 'string' ? x.text.split(/\s+/).filter(Boolean).length : 0), 0);
      res.json({
        object: 'list',
        data: out.embeddings.map((e) => ({ object: 'embedding', index: e.index, embedding: 'base64' in e ? e.base64 : (e as { values: number[] }).values })),
        model: `${name}@v${out.modelVersion.version}`,
        usage: { prompt_tokens: tokens, total_tokens: tokens },
      });
    } catch (err) {
      if (err instanceof AppError) {
        const retry = err.extensions.retryAfterSeconds;
        if (typeof retry === 'number') res.setHeader('retry-after', String(retry));
        const status = STATUS[err.code] ?? 500;
        return openAiError(res, status, status === 401 ? 'authentication_error' : status >= 500 ? 'server_error' : 'invalid_request_error', err.message, err.code);
      }
      platform.log.error({ err }, '/v1/embeddings failed');
      return openAiError(res, 500, 'server_error', 'Internal server error');
    }
  }));
  return router;
}
