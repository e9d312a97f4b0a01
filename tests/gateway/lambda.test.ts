// The shared gateway suite through the AWS Lambda handler (@as-integrations/aws-lambda), invoked in-process with
// API Gateway HTTP API (payload v2) events — the same Apollo server, database and services as over HTTP.
import { defineGatewaySuite } from './shared-suite';

defineGatewaySuite('lambda');

describe('Lambda handler: non-GraphQL routes', () => {
  // The same express routes as the HTTP server, reached through API Gateway v2 events in-process.
  let t: import('../helpers/platform').TestPlatform;
  let handler: import('../../src/gateway/lambda').LambdaHandler;
  beforeAll(async () => {
    const { startTestPlatform } = await import('../helpers/platform');
    const { createLambdaHandler } = await import('../../src/gateway/lambda');
    t = await startTestPlatform('lambda');
    handler = createLambdaHandler(t.platform);
  });
  afterAll(async () => {
    await t?.close();
  });

  const event = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    ({
      version: '2.0',
      routeKey: '$default',
      rawPath: path,
      rawQueryString: '',
      headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      requestContext: { http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'jest' }, requestId: 'r', routeKey: '$default', stage: '$default', time: '', timeEpoch: 0, accountId: '0', apiId: 'a', domainName: 'd', domainPrefix: 'd' },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      isBase64Encoded: false,
    }) as never;

  test('GET /healthz and /readyz', async () => {
    const health = (await handler(event('GET', '/healthz'), {} as never)) as { statusCode: number; body: string };
    expect(health.statusCode).toBe(200);
    expect(JSON.parse(health.body)).toEqual({ status: 'ok' });
    const ready = (await handler(event('GET', '/readyz'), {} as never)) as { statusCode: number; body: string };
    expect(JSON.parse(ready.body).checks).toEqual({ database: 'ok', storage: 'ok' });
  });

  test('POST /v1/embeddings answers in the OpenAI error shape, and the trainer API refuses API keys', async () => {
    const tenant = await t.seedTenant('lambda-rest');
    const res = (await handler(event('POST', '/v1/embeddings', { input: 'x' }, { authorization: `Bearer ${tenant.keys.READER}` }), {} as never)) as { statusCode: number; body: string };
    expect(res.statusCode).toBe(400);
    expect(JSON.parse(res.body).error.type).toBe('invalid_request_error');
    const trainer = (await handler(event('GET', '/internal/trainer/spec', undefined, { authorization: `Bearer ${tenant.keys.ADMIN}` }), {} as never)) as { statusCode: number };
    expect(trainer.statusCode).toBe(401);
  });
});
