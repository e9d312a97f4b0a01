// The shared gateway suite over the real HTTP server on a loopback port, plus HTTP-only behaviour
// (health, readiness, metrics, CSRF prevention).
import { defineGatewaySuite } from './shared-suite';
import { startTestPlatform, type TestPlatform } from '../helpers/platform';

defineGatewaySuite('http');

describe('HTTP-only endpoints', () => {
  let t: TestPlatform;
  beforeAll(async () => {
    t = await startTestPlatform('http');
  });
  afterAll(async () => {
    await t?.close();
  });

  test('GET /healthz is live and /readyz checks database and storage', async () => {
    expect(await (await fetch(`${t.url}/healthz`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${t.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ok', checks: { database: 'ok', storage: 'ok' } });
  });

  test('idle keep-alive connections outlive a proxy\'s idle timeout (HTTP_KEEP_ALIVE_SECONDS, default 65 s)', async () => {
    // Node announces its keep-alive timeout to clients in the Keep-Alive header of every keep-alive response.
    const res = await new Promise<import('node:http').IncomingMessage>((resolve, reject) => {
      const req = require('node:http').get(`${t.url}/healthz`, { agent: new (require('node:http').Agent)({ keepAlive: true }) }, resolve);
      req.on('error', reject);
    });
    res.resume();
    expect(res.headers['keep-alive']).toBe('timeout=65');
  });

  test('/readyz reports 503 when storage is unreachable', async () => {
    const store = t.platform.store as { ping(): Promise<void> };
    const original = store.ping.bind(store);
    // Make the real local store's folder unreachable by pointing ping at a path that does not exist.
    store.ping = () => require('node:fs/promises').access('/nonexistent/pretext-objects');
    try {
      const ready = await fetch(`${t.url}/readyz`);
      expect(ready.status).toBe(503);
      const body = (await ready.json()) as { checks: Record<string, string> };
      expect(body.checks.database).toBe('ok');
      expect(body.checks.storage).toMatch(/^error/);
    } finally {
      store.ping = original;
    }
  });

  test('GET /metrics exposes request, latency and error series by operation', async () => {
    await t.exec('query Version { version }');
    await t.exec('query Who { viewer { isOperator } }');
    const text = await (await fetch(`${t.url}/metrics`)).text();
    expect(text).toMatch(/pretext_graphql_requests_total\{operation="Version",type="query"\} \d+/);
    expect(text).toMatch(/pretext_graphql_errors_total\{operation="Who",code="UNAUTHENTICATED"\} 1/);
    expect(text).toMatch(/pretext_graphql_request_duration_seconds_bucket\{le="[\d.]+",operation="Version"\}/);
  });

  test('CSRF prevention blocks simple GET requests without a preflight header', async () => {
    const res = await fetch(`${t.url}/graphql?query=${encodeURIComponent('{ version }')}`);
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/CSRF/i);
    const allowed = await fetch(`${t.url}/graphql?query=${encodeURIComponent('{ version }')}`, { headers: { 'apollo-require-preflight': 'true' } });
    expect(allowed.status).toBe(200);
  });
});
