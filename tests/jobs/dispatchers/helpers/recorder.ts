/**
 * A loopback HTTP server that stands in for a cloud API in dispatcher tests. The real SDK clients talk to it over
 * HTTP; it records every request (method, path, query, headers, parsed body) and answers with whatever the test's
 * handler returns, so tests assert both the wire request the SDK produced and how the dispatcher reads answers.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  rawBody: string;
  /** JSON-parsed body, or undefined when the body is empty or not JSON. */
  body: any;
}

export interface RecorderResponse {
  status?: number;
  headers?: Record<string, string>;
  /** Objects are sent as JSON. */
  body?: unknown;
}

export type RecorderHandler = (req: RecordedRequest) => RecorderResponse | Promise<RecorderResponse>;

export interface Recorder {
  url: string;
  requests: RecordedRequest[];
  /** Replaces the handler (tests change answers between steps). */
  setHandler(h: RecorderHandler): void;
  close(): Promise<void>;
}

export async function startRecorder(handler: RecorderHandler): Promise<Recorder> {
  let current = handler;
  const requests: RecordedRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      let body: unknown;
      try {
        body = rawBody ? JSON.parse(rawBody) : undefined;
      } catch {
        body = undefined;
      }
      const url = new URL(req.url ?? '/', 'http://loopback');
      const recorded: RecordedRequest = {
        method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers, rawBody, body,
      };
      requests.push(recorded);
      try {
        const answer = await current(recorded);
        const payload = answer.body === undefined ? '' : typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
        res.writeHead(answer.status ?? 200, { 'content-type': 'application/json', ...answer.headers });
        res.end(payload);
      } catch (err) {
        res.writeHead(599, { 'content-type': 'text/plain' });
        res.end(`recorder handler threw: ${(err as Error).message}`);
      }
    });
  });
  // Keep-alive sockets from the SDKs would hold close() open.
  server.keepAliveTimeout = 100;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    setHandler: (h) => (current = h),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

/** Fake static credentials: the recorder checks nothing, the SDK still signs every request. */
export const FAKE_CREDENTIALS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
