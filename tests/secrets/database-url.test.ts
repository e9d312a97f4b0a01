// DATABASE_SECRET_ARN → DATABASE_URL (src/secrets/database-url.ts), the deployed Lambdas' cold start.
// Secrets Manager cannot run here: the real AWS SDK client talks to a loopback HTTP endpoint that speaks its JSON
// protocol and records every request (nothing in the SDK is stubbed). The end-to-end case runs the deployed Lambda
// handler itself (src/gateway/lambda.ts `handler`) with only the ARN in its environment, against the real Postgres
// service (DATABASE_URL of the test run, else it is skipped: PGlite has no URL to put in a secret).
import crypto from 'node:crypto';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import { DatabaseSecretError, databaseUrlFromSecret, withDatabaseSecret } from '../../src/secrets/database-url';
import { createOwnDatabase, type OwnDatabase } from '../helpers/own-database';

interface Recorded { target: string | undefined; body: { SecretId?: string } }

/** A Secrets Manager stand-in on loopback: GetSecretValue answers from `secrets`, an unknown id as AWS does. */
async function fakeSecretsManager(secrets: Record<string, string>) {
  const requests: Recorded[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { SecretId?: string };
      const target = req.headers['x-amz-target'] as string | undefined;
      requests.push({ target, body });
      res.setHeader('content-type', 'application/x-amz-json-1.1');
      const secret = body.SecretId ? secrets[body.SecretId] : undefined;
      if (target !== 'secretsmanager.GetSecretValue' || secret === undefined) {
        res.statusCode = 400;
        res.end(JSON.stringify({ __type: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret." }));
        return;
      }
      res.end(JSON.stringify({ ARN: body.SecretId, Name: 'pretext-db', SecretString: secret, VersionId: 'v1', CreatedDate: 1_700_000_000 }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { endpoint, requests, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:pretext-db-AbCdEf';
const client = (endpoint: string) => ({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
const rds = (over: Record<string, unknown> = {}) =>
  JSON.stringify({ engine: 'postgres', username: 'pretext', password: 'p@ss:w/rd?#', host: 'db.cluster.internal', port: 5432, dbname: 'pretext', ...over });

describe('DATABASE_SECRET_ARN', () => {
  test('an RDS secret becomes DATABASE_URL, user and password percent-encoded; the SDK asked GetSecretValue for the ARN', async () => {
    const sm = await fakeSecretsManager({ [ARN]: rds() });
    try {
      const env = await withDatabaseSecret({ DATABASE_SECRET_ARN: ARN, OTHER: 'kept' }, client(sm.endpoint));
      expect(env.DATABASE_URL).toBe('postgresql://pretext:p%40ss%3Aw%2Frd%3F%23@db.cluster.internal:5432/pretext');
      expect(new URL(env.DATABASE_URL!).password).toBe(encodeURIComponent('p@ss:w/rd?#'));
      expect(env.OTHER).toBe('kept');
      expect(sm.requests).toEqual([{ target: 'secretsmanager.GetSecretValue', body: { SecretId: ARN } }]);
    } finally {
      await sm.close();
    }
  });

  test('the owner secret (DATABASE_MIGRATION_SECRET_ARN) becomes DATABASE_MIGRATION_URL beside the runtime one', async () => {
    const OWNER = `${ARN}-owner`;
    const sm = await fakeSecretsManager({ [ARN]: rds({ username: 'pretext_gateway', password: 'run' }), [OWNER]: rds({ username: 'pretext', password: 'own' }) });
    try {
      const env = await withDatabaseSecret({ DATABASE_SECRET_ARN: ARN, DATABASE_MIGRATION_SECRET_ARN: OWNER }, client(sm.endpoint));
      expect(env.DATABASE_URL).toBe('postgresql://pretext_gateway:run@db.cluster.internal:5432/pretext');
      expect(env.DATABASE_MIGRATION_URL).toBe('postgresql://pretext:own@db.cluster.internal:5432/pretext');
      expect(sm.requests.map((r) => r.body.SecretId)).toEqual([ARN, OWNER]);
      await expect(withDatabaseSecret({ DATABASE_URL: 'postgresql://x@h/db', DATABASE_MIGRATION_SECRET_ARN: 'nope' }, client(sm.endpoint))).rejects.toThrow(/^DATABASE_MIGRATION_SECRET_ARN nope: could not read the secret/);
    } finally {
      await sm.close();
    }
  });

  test('an explicit DATABASE_URL wins and nothing is asked; no ARN, nothing is asked', async () => {
    const sm = await fakeSecretsManager({ [ARN]: rds() });
    try {
      expect((await withDatabaseSecret({ DATABASE_SECRET_ARN: ARN, DATABASE_URL: 'postgresql://x@h/db' }, client(sm.endpoint))).DATABASE_URL).toBe('postgresql://x@h/db');
      expect((await withDatabaseSecret({}, client(sm.endpoint))).DATABASE_URL).toBeUndefined();
      expect(sm.requests).toEqual([]);
    } finally {
      await sm.close();
    }
  });

  test('a missing secret, a secret that is not an RDS secret: a DatabaseSecretError naming the ARN, never the password', async () => {
    const sm = await fakeSecretsManager({ [ARN]: rds({ host: undefined, dbname: '' }), other: 'not json' });
    try {
      const err = await withDatabaseSecret({ DATABASE_SECRET_ARN: ARN }, client(sm.endpoint)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DatabaseSecretError);
      expect((err as Error).message).toBe(`DATABASE_SECRET_ARN ${ARN}: the secret has no host, dbname`);
      expect((err as Error).message).not.toContain('p@ss');
      await expect(withDatabaseSecret({ DATABASE_SECRET_ARN: 'unknown' }, client(sm.endpoint))).rejects.toThrow(/DATABASE_SECRET_ARN unknown: could not read the secret \(ResourceNotFoundException/);
      expect(() => databaseUrlFromSecret('not json', 'other')).toThrow(/not JSON/);
      expect(() => databaseUrlFromSecret(rds({ port: 70000 }), ARN)).toThrow(/port/);
    } finally {
      await sm.close();
    }
  });

  const server = process.env.DATABASE_URL;
  (server ? test : test.skip)('the deployed Lambda handler starts from the two ARNs alone: it creates the runtime role, migrates as the owner and serves as the role', async () => {
    const own: OwnDatabase = await createOwnDatabase(server!, 'pretext_secret');
    const url = new URL(own.url);
    const role = `pretext_gw_${crypto.randomBytes(4).toString('hex')}`;
    const secretOf = (username: string, password: string) =>
      JSON.stringify({ engine: 'postgres', username, password, host: url.hostname, port: Number(url.port || 5432), dbname: url.pathname.slice(1) });
    const OWNER = `${ARN}-owner`;
    const sm = await fakeSecretsManager({ [ARN]: secretOf(role, 'generated-runtime-password'), [OWNER]: secretOf(decodeURIComponent(url.username), decodeURIComponent(url.password) || 'unused') });
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pretext-secret-'));
    const saved = { ...process.env };
    // What infra/gateway.ts gives the functions: the two ARNs, never a URL (the SDK reads the endpoint override).
    delete process.env.DATABASE_URL;
    Object.assign(process.env, {
      DATABASE_SECRET_ARN: ARN,
      DATABASE_MIGRATION_SECRET_ARN: OWNER,
      DATABASE_ENSURE_RUNTIME_ROLE: 'true',
      AWS_ENDPOINT_URL_SECRETS_MANAGER: sm.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      PRETEXT_DATA_DIR: dataDir,
      LOG_LEVEL: 'silent',
      DATASET_PROCESSING: 'worker',
    });
    const { Client } = await import('pg');
    const admin = new Client({ connectionString: own.url });
    await admin.connect();
    try {
      const { handler } = await import('../../src/gateway/lambda');
      const res = (await handler(
        {
          version: '2.0',
          routeKey: '$default',
          rawPath: '/readyz',
          rawQueryString: '',
          headers: {},
          requestContext: { http: { method: 'GET', path: '/readyz', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'jest' }, requestId: 'r', routeKey: '$default', stage: '$default', time: '', timeEpoch: 0, accountId: '0', apiId: 'a', domainName: 'd', domainPrefix: 'd' },
          isBase64Encoded: false,
        } as never,
        {} as never,
      )) as { statusCode: number; body: string };
      expect(res.statusCode).toBe(200);
      expect(JSON.parse(res.body)).toEqual({ status: 'ok', checks: { database: 'ok', storage: 'ok' } });
      expect(sm.requests.map((r) => r.body.SecretId)).toEqual([ARN, OWNER]);
      // The database in the secrets was migrated (not an embedded one under the data dir) ...
      expect(Number((await admin.query('SELECT count(*) FROM _prisma_migrations')).rows[0].count)).toBeGreaterThan(0);
      expect(fs.existsSync(path.join(dataDir, 'pgdata'))).toBe(false);
      // ... the runtime role exists, owns nothing and may not bypass row-level security, and the gateway is connected as it.
      const r = await admin.query('SELECT rolsuper, rolbypassrls, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = $1', [role]);
      expect(r.rows).toEqual([{ rolsuper: false, rolbypassrls: false, rolcreaterole: false, rolcreatedb: false }]);
      expect(Number((await admin.query("SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = $1", [role])).rows[0].count)).toBe(0);
      const sessions = await admin.query('SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND usename = $2', [url.pathname.slice(1), role]);
      expect(Number(sessions.rows[0].count)).toBeGreaterThan(0);
    } finally {
      process.env = saved;
      await admin.end();
      await sm.close();
      await own.drop();
      const c = new Client({ connectionString: server! });
      await c.connect();
      try {
        await c.query(`DROP ROLE IF EXISTS ${role}`);
      } finally {
        await c.end();
      }
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});
