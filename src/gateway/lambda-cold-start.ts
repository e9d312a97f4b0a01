// The deployed Lambda handlers' cold start, shared by the request and the worker-tick functions: DATABASE_URL from
// DATABASE_SECRET_ARN first (the stack passes only the secret's ARN), then the configuration and the platform, once
// per container. A failed cold start is not kept: the next invocation tries again instead of failing until the
// container is recycled.
import { loadConfig } from '../config';
import { createPlatform, type Platform } from '../platform';
import { withDatabaseSecret } from '../secrets/database-url';

export function coldStart<H>(wrap: (platform: Platform) => H): () => Promise<H> {
  let cold: Promise<H> | undefined;
  return () =>
    (cold ??= withDatabaseSecret(process.env)
      .then((env) => createPlatform(loadConfig(env), { defaultMetrics: false }))
      .then(wrap)
      .catch((err: unknown) => {
        cold = undefined;
        throw err;
      }));
}
