// The trainer's liveness heartbeats come from a worker thread, so they keep arriving while the main thread is busy
// in synchronous tfjs kernels. Checked against a real loopback HTTP server that records the requests.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startLiveness } from '../../../src/training/task/liveness';

describe('trainer liveness', () => {
  it('keeps heartbeating while the main thread is blocked, with the job token, and stops when told', async () => {
    const seen: Array<{ at: number; url: string; auth: string | undefined; body: string }> = [];
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        seen.push({ at: Date.now(), url: req.url ?? '', auth: req.headers.authorization, body });
        res.end('{"cancel":false}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const liveness = startLiveness({ gatewayUrl: `${url}/`, token: 'ptj_test', intervalSeconds: 0.1 });
    try {
      // The worker is up once its first beat lands.
      while (seen.length === 0) await new Promise((r) => setTimeout(r, 10));
      // Block this thread for 1.2 s, the way a long synchronous kernel does: this server cannot even accept
      // meanwhile, so the worker's requests queue in the kernel and are answered right after.
      const start = Date.now();
      while (Date.now() - start < 1200) {
        /* busy */
      }
      const blockedUntil = Date.now();
      // Within one interval after the block: a main-thread timer would have fired at most once for the whole
      // block; the worker sent one request per interval during it (~12), which land now.
      await new Promise((r) => setTimeout(r, 80));
      const during = seen.filter((s) => s.at >= blockedUntil);
      expect(during.length).toBeGreaterThanOrEqual(5);
      for (const s of seen) expect(s).toMatchObject({ url: '/internal/trainer/heartbeat', auth: 'Bearer ptj_test', body: '{}' });
    } finally {
      await liveness.stop();
    }
    const after = seen.length;
    await new Promise((r) => setTimeout(r, 350));
    expect(seen.length).toBe(after);
    await new Promise<void>((r) => server.close(() => r()));
  });
});
