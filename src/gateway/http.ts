// The HTTP server: /graphql plus health, readiness, metrics and (for the local object store) presigned-URL routes.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expressMiddleware } from '@as-integrations/express5';
import express from 'express';
import { graphqlUploadExpress } from 'graphql-upload-minimal';
import type { Platform } from '../platform';
import { openRequestScope } from '../db/scope';
import { LocalObjectStore } from '../storage';
import { localStorageRouter } from '../storage/local-http';
import { CONSOLE_PATH, consoleRouter } from './console-static';
import { graphqlRoute } from './graphql-http';
import { embeddingsHandler, embeddingsRoute, embeddingsRouter } from './rest-embeddings';
import { trainerRouter } from './trainer-api';

/** express.json's verify hook records the raw body size here. */
type BodySized = { bodyBytes?: number };

function jsonError(res: express.Response, status: number, code: string, message: string): void {
  res.status(status).json({ errors: [{ message, extensions: { code } }] });
}

/**
 * Every route but /graphql: health, readiness, metrics, presigned local-store URLs, the trainer API and the OpenAI
 * shim. The HTTP server mounts it in front of /graphql; the Lambda handler serves it for non-GraphQL paths.
 */
export function createRestApp(platform: Platform, embeddings = embeddingsHandler(platform)): express.Express {
  const app = express();
  app.disable('x-powered-by');

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  app.get('/readyz', async (_req, res) => {
    const checks: Record<string, string> = {};
    await Promise.all([
      platform.db.ping().then(
        () => (checks.database = 'ok'),
        (err: Error) => (checks.database = `error: ${err.message}`),
      ),
      platform.store.ping().then(
        () => (checks.storage = 'ok'),
        (err: Error) => (checks.storage = `error: ${err.message}`),
      ),
    ]);
    const ok = Object.values(checks).every((v) => v === 'ok');
    res.status(ok ? 200 : 503).json({ status: ok ? 'ok' : 'unavailable', checks });
  });

  app.get('/metrics', async (_req, res) => {
    res.setHeader('content-type', platform.metrics.registry.contentType);
    res.send(await platform.metrics.registry.metrics());
  });

  if (platform.store instanceof LocalObjectStore) {
    app.use('/storage', localStorageRouter(platform.store, platform.signingSecret));
  }

  // Trainer tasks report here with their job-scoped token (never an API key).
  app.use('/internal/trainer', trainerRouter(platform.services.trainer, platform.log));

  app.use(embeddingsRouter(platform, embeddings));
  return app;
}

export async function createHttpApp(platform: Platform, embeddings = embeddingsHandler(platform)): Promise<express.Express> {
  const app = express();
  app.disable('x-powered-by');
  app.use(createRestApp(platform, embeddings));
  app.use(CONSOLE_PATH, consoleRouter());

  await platform.apollo.start();
  const limits = platform.config.limits;
  app.use(
    '/graphql',
    // GraphQL multipart requests (file uploads) stream straight through to the resolver.
    // The library's own file-size limit truncates the stream without ending it (the request then hangs), so no
    // limit is set here: UploadService meters every upload and answers BAD_USER_INPUT / QUOTA_EXCEEDED itself.
    graphqlUploadExpress({ maxFiles: 1, maxFieldSize: limits.maxBodyBytes }),
    // Anonymous callers cannot run inference, so they never get more than the ordinary limit (nothing is read).
    (req: express.Request, res: express.Response, next: express.NextFunction) => {
      const declared = Number(req.headers['content-length'] ?? 0);
      if (!req.headers.authorization && declared > limits.maxBodyBytes) {
        return jsonError(res, 413, 'BAD_USER_INPUT', `Request body exceeds ${limits.maxBodyBytes} bytes (MAX_BODY_BYTES)`);
      }
      return next();
    },
    // Parsed up to the inference limit; the body-limit plugin refuses any other operation over MAX_BODY_BYTES.
    express.json({ limit: limits.maxInferenceBodyBytes, verify: (req, _res, buf) => void ((req as BodySized).bodyBytes = buf.length) }),
    // A DbScope around the operation (filled by buildContext with the caller's tenant); see src/db/scope.ts.
    (_req: express.Request, _res: express.Response, next: express.NextFunction) => void openRequestScope(() => next()),
    expressMiddleware(platform.apollo, { context: ({ req }) => platform.buildContext(req.headers, { bodyBytes: (req as BodySized).bodyBytes ?? 0 }) }),
  );

  // Body-parser failures (oversized or malformed JSON) answer in GraphQL's error shape with a typed code.
  app.use((err: Error & { type?: string; status?: number }, _req: express.Request, res: express.Response, next: express.NextFunction) => {
    if (res.headersSent) return next(err);
    if (err.type === 'entity.too.large') {
      return jsonError(res, 413, 'BAD_USER_INPUT', `Request body exceeds ${limits.maxInferenceBodyBytes} bytes (MAX_INFERENCE_BODY_BYTES; other operations: ${limits.maxBodyBytes}, MAX_BODY_BYTES)`);
    }
    if (err.type === 'entity.parse.failed') return jsonError(res, 400, 'BAD_USER_INPUT', 'Request body is not valid JSON');
    platform.log.error({ err }, 'unhandled HTTP error');
    return jsonError(res, err.status && err.status < 500 ? err.status : 500, 'INTERNAL', 'Internal server error');
  });
  return app;
}

export interface RunningServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startHttpServer(platform: Platform, opts: { port: number; host: string }): Promise<RunningServer> {
  const embeddings = embeddingsHandler(platform);
  const app = await createHttpApp(platform, embeddings);
  // JSON GraphQL posts and JSON /v1/embeddings posts take lean routes; everything else (uploads, GET, other REST
  // routes, health) goes through express.
  const fast = graphqlRoute({
    apollo: platform.apollo,
    maxBodyBytes: platform.config.limits.maxBodyBytes,
    maxInferenceBodyBytes: platform.config.limits.maxInferenceBodyBytes,
    buildContext: (headers, extra) => platform.buildContext(headers, extra),
    onError: (err) => platform.log.error({ err }, 'unhandled HTTP error'),
  });
  const rest = embeddingsRoute(platform, embeddings);
  const server = http.createServer((req, res) => {
    if (!fast(req, res) && !rest(req, res)) app(req, res);
  });
  // See HTTP_KEEP_ALIVE_SECONDS (src/config.ts). Node requires the headers timeout to exceed the keep-alive one, or
  // a connection reused just before the keep-alive expiry can be cut while its next request's headers arrive.
  server.keepAliveTimeout = platform.config.keepAliveMs;
  server.headersTimeout = platform.config.keepAliveMs + 1_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, resolve);
  });
  const port = (server.address() as AddressInfo).port;
  const host = opts.host === '0.0.0.0' || opts.host === '::' ? '127.0.0.1' : opts.host;
  if (!platform.config.publicUrl) platform.publicUrl.value = `http://${host}:${port}`;
  return {
    url: `http://${host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
