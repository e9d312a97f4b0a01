// POST /v1/embeddings: the OpenAI embeddings request/response shape for text models, so existing OpenAI clients
// can point their base URL at Pretext. Same auth, service and limits as the GraphQL `embed` query.
import express, { type Router } from 'express';
import { AppError } from '../errors';
import type { Platform } from '../platform';

function openAiError(res: express.Response, status: number, type: string, message: string, code: string | null = null): void {
  res.status(status).json({ error: { message, type, param: null, code } });
}

const STATUS: Record<string, number> = { UNAUTHENTICATED: 401, FORBIDDEN: 403, NOT_FOUND: 404, BAD_USER_INPUT: 400, QUOTA_EXCEEDED: 429, RATE_LIMITED: 429, CONFLICT: 409 };

export function embeddingsRouter(platform: Platform): Router {
  const router = express.Router();
  router.post('/v1/embeddings', express.json({ limit: platform.config.limits.maxInferenceBodyBytes }), async (req, res) => {
    try {
      const ctx = await platform.buildContext(req.headers);
      if (ctx.principal.kind === 'tenant') await platform.services.limits.consume(ctx.principal.tenantId, 'requests', 1);
      const body = (req.body ?? {}) as { model?: unknown; input?: unknown; dimensions?: unknown; encoding_format?: unknown };
      if (typeof body.model !== 'string' || !body.model) return openAiError(res, 400, 'invalid_request_error', 'model is required (a model id or name[@alias])');
      const texts = typeof body.input === 'string' ? [body.input] : Array.isArray(body.input) && body.input.every((x) => typeof x === 'string') ? (body.input as string[]) : null;
      if (!texts || texts.length === 0) return openAiError(res, 400, 'invalid_request_error', 'input must be a string or a non-empty array of strings (token arrays are not supported)');
      const format = body.encoding_format ?? 'float';
      if (format !== 'float' && format !== 'base64') return openAiError(res, 400, 'invalid_request_error', 'encoding_format must be "float" or "base64"');
      if (body.dimensions !== undefined && (typeof body.dimensions !== 'number' || !Number.isInteger(body.dimensions))) {
        return openAiError(res, 400, 'invalid_request_error', 'dimensions must be an integer');
      }
      const out = await platform.services.models.embed(ctx.principal, {
        model: body.model,
        inputs: texts.map((text) => ({ text })),
        options: { encoding: format === 'base64' ? 'BASE64' : 'FLOAT', ...(body.dimensions !== undefined ? { dimensions: body.dimensions as number } : {}) },
      });
      const model = await platform.services.models.modelOf(out.modelVersion);
      if (model.modality !== 'TEXT') return openAiError(res, 400, 'invalid_request_error', `/v1/embeddings serves text models; ${model.name} is ${model.modality}`);
      const tokens = texts.reduce((n, t) => n + t.split(/\s+/).filter(Boolean).length, 0);
      res.json({
        object: 'list',
        data: out.embeddings.map((e) => ({ object: 'embedding', index: e.index, embedding: 'base64' in e ? e.base64 : (e as { values: number[] }).values })),
        model: `${model.name}@v${out.modelVersion.version}`,
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
  });
  return router;
}
