// Starts a real Pretext platform for a test file (real database, local object store in a temp dir) and talks to
// it through a chosen transport: the HTTP server on a loopback port, or the Lambda handler invoked in-process
// with API Gateway v2 events. Tests seed their own tenants, so no test depends on another's rows.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { loadConfig, type Config } from '../../src/config';
import { startHttpServer, type RunningServer } from '../../src/gateway/http';
import { createLambdaHandler } from '../../src/gateway/lambda';
import { createLogger } from '../../src/logger';
import { createPlatform, type Platform, type PlatformOptions } from '../../src/platform';
import { testDatabaseConfig } from './db';

export type Transport = 'http' | 'lambda';

export interface GqlResponse<T = Record<string, any>> {
  status: number;
  body: { data?: T | null; errors?: Array<{ message: string; path?: string[]; extensions?: { code?: string; [k: string]: unknown } }> };
}

export interface SeededTenant {
  id: string;
  name: string;
  keys: { ADMIN: string; MEMBER: string; READER: string };
}

export interface TestPlatform {
  platform: Platform;
  transport: Transport;
  operatorKey: string;
  /** HTTP base URL (also set for the lambda transport, whose platform still needs presigned-URL routes in some tests). */
  url?: string;
  exec<T = Record<string, any>>(query: string, variables?: Record<string, unknown>, opts?: { key?: string; headers?: Record<string, string>; rawBody?: string }): Promise<GqlResponse<T>>;
  seedTenant(prefix?: string): Promise<SeededTenant>;
  close(): Promise<void>;
}

export function testConfig(overrides: Record<string, string> = {}): { config: Config; dataDir: string; operatorKey: string } {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pretext-test-'));
  const operatorKey = `op_${crypto.randomBytes(24).toString('hex')}`;
  const config = loadConfig({
    NODE_ENV: 'test',
    PRETEXT_DATA_DIR: dataDir,
    PRETEXT_ADMIN_KEY: operatorKey,
    PORT: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...overrides,
  });
  // A test that names its own database (e.g. a runtime role next to an owner URL) gets it; the rest the shared one.
  return { config: { ...config, database: overrides.DATABASE_URL ? config.database : testDatabaseConfig() }, dataDir, operatorKey };
}

function lambdaEvent(body: string, headers: Record<string, string>): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: 'POST /graphql',
    rawPath: '/graphql',
    rawQueryString: '',
    headers,
    requestContext: {
      accountId: '000000000000',
      apiId: 'test',
      domainName: 'test.execute-api.us-east-1.amazonaws.com',
      domainPrefix: 'test',
      http: { method: 'POST', path: '/graphql', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'jest' },
      requestId: crypto.randomUUID(),
      routeKey: 'POST /graphql',
      stage: '$default',
      time: new Date().toISOString(),
      timeEpoch: Date.now(),
    },
    body,
    isBase64Encoded: false,
  };
}

export async function startTestPlatform(
  transport: Transport = 'http',
  overrides: Record<string, string> = {},
  platformOptions: Pick<PlatformOptions, 'jobTenantScope'> = {},
): Promise<TestPlatform> {
  const { config, dataDir, operatorKey } = testConfig(overrides);
  const platform = await createPlatform(config, { defaultMetrics: false, logger: createLogger(config.logLevel), ...platformOptions });
  let server: RunningServer | undefined;
  let send: (body: string, headers: Record<string, string>) => Promise<GqlResponse>;
  if (transport === 'http') {
    server = await startHttpServer(platform, { port: 0, host: '127.0.0.1' });
    const url = `${server.url}/graphql`;
    send = async (body, headers) => {
      const res = await fetch(url, { method: 'POST', headers, body });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : {} };
    };
  } else {
    const handler = createLambdaHandler(platform);
    send = async (body, headers) => {
      const out = (await handler(lambdaEvent(body, headers), {} as Context)) as APIGatewayProxyStructuredResultV2;
      return { status: out.statusCode ?? 200, body: out.body ? JSON.parse(out.body) : {} };
    };
  }

  const tp: TestPlatform = {
    platform,
    transport,
    operatorKey,
    ...(server ? { url: server.url } : {}),
    exec(query, variables = {}, opts = {}) {
      const headers: Record<string, string> = { 'content-type': 'application/json', ...(opts.headers ?? {}) };
      if (opts.key) headers.authorization = `Bearer ${opts.key}`;
      return send(opts.rawBody ?? JSON.stringify({ query, variables }), headers) as Promise<GqlResponse<any>>;
    },
    async seedTenant(prefix = 't') {
      const name = `${prefix}-${crypto.randomBytes(5).toString('hex')}`;
      const created = await tp.exec(`mutation($n: String!) { createTenant(input: { name: $n }) { tenant { id name } adminKey } }`, { n: name }, { key: operatorKey });
      if (!created.body.data) throw new Error(`seedTenant failed: ${JSON.stringify(created.body.errors)}`);
      const { tenant, adminKey } = created.body.data.createTenant as { tenant: { id: string; name: string }; adminKey: string };
      const mk = async (role: 'MEMBER' | 'READER') => {
        const r = await tp.exec(`mutation($r: ApiKeyRole!) { createApiKey(input: { name: "seed", role: $r }) { secret } }`, { r: role }, { key: adminKey });
        if (!r.body.data) throw new Error(`seed key failed: ${JSON.stringify(r.body.errors)}`);
        return (r.body.data.createApiKey as { secret: string }).secret;
      };
      return { id: tenant.id, name: tenant.name, keys: { ADMIN: adminKey, MEMBER: await mk('MEMBER'), READER: await mk('READER') } };
    },
    async close() {
      await server?.close();
      await platform.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return tp;
}

/** The error codes of a response, in order. */
export function codes(res: GqlResponse): string[] {
  return (res.body.errors ?? []).map((e) => String(e.extensions?.code));
}
