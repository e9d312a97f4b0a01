// The object-store contract against the local-folder adapter, with its presigned URLs served by the real
// /storage router on a loopback HTTP server.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import express from 'express';
import { LocalObjectStore } from '../../src/storage';
import { localStorageRouter } from '../../src/storage/local-http';
import { defineStoreContract } from './contract';

async function openLocal() {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'pretext-local-store-'));
  const secret = crypto.randomBytes(32).toString('hex');
  let base = '';
  const store = new LocalObjectStore({ root, signingSecret: secret, publicUrl: () => base });
  const app = express();
  app.use('/storage', localStorageRouter(store, secret));
  const server = http.createServer(app);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    store,
    root,
    base,
    secret,
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}

defineStoreContract('local folder', openLocal);

describe('local store presigned URL security', () => {
  test('tampered, expired or wrong-operation signatures are refused and write nothing', async () => {
    const h = await openLocal();
    try {
      const key = `tenants/${crypto.randomUUID()}/x.txt`;
      const url = new URL(await h.store.presignPut(key, 60));
      const other = new URL(url);
      other.searchParams.set('key', `tenants/${crypto.randomUUID()}/x.txt`);
      expect((await fetch(other, { method: 'PUT', body: 'evil' })).status).toBe(403);
      const asGet = new URL(url.toString().replace('/storage/put', '/storage/get'));
      expect((await fetch(asGet)).status).toBe(403);
      const expired = new URL(await h.store.presignPut(key, -1));
      expect((await fetch(expired, { method: 'PUT', body: 'late' })).status).toBe(403);
      expect(await h.store.head(key)).toBeNull();
    } finally {
      await h.close();
    }
  });

  test('objects stay inside the root folder', async () => {
    const h = await openLocal();
    try {
      await h.store.put('tenants/t1/a/b.txt', 'x');
      expect(fs.existsSync(path.join(h.root, 'tenants', 't1', 'a', 'b.txt'))).toBe(true);
      await expect(h.store.put('tenants/t1/../../../escape.txt', 'x')).rejects.toThrow(/Invalid object key/);
      expect(fs.existsSync(path.join(h.root, '..', 'escape.txt'))).toBe(false);
    } finally {
      await h.close();
    }
  });
});
