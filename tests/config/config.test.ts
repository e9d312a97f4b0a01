// Configuration parsing: defaults, the S3 toggle, and every bad variable reported at once.
import path from 'node:path';
import { ConfigError, loadConfig } from '../../src/config';

describe('loadConfig', () => {
  test('an empty environment gives the embedded defaults', () => {
    const c = loadConfig({});
    expect(c.database).toEqual({ kind: 'embedded', dataDir: path.resolve('.pretext/pgdata'), poolSize: 5 });
    expect(c.storage).toEqual({ kind: 'local', root: path.resolve('.pretext/objects') });
    expect(c.port).toBe(4000);
    expect(c.keepAliveMs).toBe(65_000);
    expect(loadConfig({ HTTP_KEEP_ALIVE_SECONDS: '120' }).keepAliveMs).toBe(120_000);
    expect(() => loadConfig({ HTTP_KEEP_ALIVE_SECONDS: '0' })).toThrow(/HTTP_KEEP_ALIVE_SECONDS/);
    expect(c.env).toBe('production');
    expect(c.adminKey).toBeUndefined();
  });

  test('DATABASE_URL and S3 settings switch adapters; custom endpoints default to path-style', () => {
    const c = loadConfig({
      DATABASE_URL: 'postgresql://u@localhost:5432/db',
      S3_BUCKET: 'bucket',
      S3_ENDPOINT: 'http://127.0.0.1:9000',
      S3_ACCESS_KEY_ID: 'id',
      S3_SECRET_ACCESS_KEY: 'secret',
    });
    expect(c.database).toEqual({ kind: 'postgres', url: 'postgresql://u@localhost:5432/db', poolSize: 5 });
    expect(c.storage).toEqual({
      kind: 's3',
      bucket: 'bucket',
      region: 'us-east-1',
      endpoint: 'http://127.0.0.1:9000',
      forcePathStyle: true,
      credentials: { accessKeyId: 'id', secretAccessKey: 'secret' },
    });
    expect(loadConfig({ S3_BUCKET: 'bkt' }).storage).toMatchObject({ kind: 's3', forcePathStyle: false });
  });

  test('DATABASE_MIGRATION_URL: owner credentials for migrations next to the runtime DATABASE_URL, never alone', () => {
    const c = loadConfig({ DATABASE_URL: 'postgresql://gw:pw@db/app', DATABASE_MIGRATION_URL: 'postgresql://owner:secret@db/app' });
    expect(c.database).toEqual({ kind: 'postgres', url: 'postgresql://gw:pw@db/app', migrationUrl: 'postgresql://owner:secret@db/app', poolSize: 5 });
    expect(() => loadConfig({ DATABASE_MIGRATION_URL: 'postgresql://owner@db/app' })).toThrow(/DATABASE_URL: required when DATABASE_MIGRATION_URL is set/);
    // DATABASE_ENSURE_RUNTIME_ROLE (the CDK stack's setting) creates DATABASE_URL's role with the owner's URL.
    expect(loadConfig({ DATABASE_URL: 'postgresql://gw:pw@db/app', DATABASE_MIGRATION_URL: 'postgresql://o@db/app', DATABASE_ENSURE_RUNTIME_ROLE: 'true' }).database).toMatchObject({ ensureRuntimeRole: true });
    expect(() => loadConfig({ DATABASE_URL: 'postgresql://gw@db/app', DATABASE_ENSURE_RUNTIME_ROLE: 'true' })).toThrow(/DATABASE_ENSURE_RUNTIME_ROLE: needs DATABASE_MIGRATION_URL/);
    // A malformed URL is reported without echoing it (it may carry a password).
    expect(() => loadConfig({ DATABASE_URL: 'postgresql://gw@db/app', DATABASE_MIGRATION_URL: 'mysql://owner:hunter2@db' })).toThrow(/^(?![\s\S]*hunter2)[\s\S]*DATABASE_MIGRATION_URL: must be a postgres/);
  });

  test('every bad variable is reported at once, with what was expected and without echoing secrets', () => {
    let err: ConfigError | undefined;
    try {
      loadConfig({
        PORT: 'eighty',
        DATABASE_URL: 'mysql://x',
        PRETEXT_ADMIN_KEY: 'short',
        S3_ACCESS_KEY_ID: 'only-id',
        LOG_LEVEL: 'loud',
      });
    } catch (e) {
      err = e as ConfigError;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const joined = err!.problems.join('\n');
    expect(err!.problems.length).toBeGreaterThanOrEqual(5);
    expect(joined).toMatch(/PORT/);
    expect(joined).toMatch(/DATABASE_URL: must be a postgres/);
    expect(joined).toMatch(/PRETEXT_ADMIN_KEY: must be at least 32/);
    expect(joined).toMatch(/S3_SECRET_ACCESS_KEY: .*set together/);
    expect(joined).toMatch(/S3_BUCKET: required/);
    expect(joined).toMatch(/LOG_LEVEL/);
    expect(joined).not.toContain('short');
    expect(joined).not.toContain('only-id');
  });

  test('the inference body limit is at least the ordinary body limit', () => {
    const c = loadConfig({});
    expect(c.limits.maxInferenceBodyBytes).toBeGreaterThanOrEqual(c.limits.maxBodyBytes);
    expect(() => loadConfig({ MAX_BODY_BYTES: '2000000', MAX_INFERENCE_BODY_BYTES: '1000000' })).toThrow(/MAX_INFERENCE_BODY_BYTES: must be at least MAX_BODY_BYTES/);
  });
});
