#!/usr/bin/env node
// Smoke test of the zero-config default: `npm start` with no DATABASE_URL / S3 settings (embedded PGlite + local
// object store in a fresh data dir), then the quick start: create a tenant with the printed operator key through
// the CLI, query `viewer`, then upload a dataset, train it through the local dispatcher (a real trainer child
// process), embed text with the registered model, fine-tune it on a labeled set and predict with the new version.
// Exits non-zero on any failure. Used by .ci/run.
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.join(__dirname, '..');
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pretext-smoke-'));
const env = { ...process.env, PRETEXT_DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'warn' };
delete env.DATABASE_URL;
delete env.S3_BUCKET;
delete env.PRETEXT_ADMIN_KEY;

const server = spawn(process.execPath, [path.join(root, 'scripts', 'start.js')], { cwd: root, env, stdio: ['ignore', 'pipe', 'inherit'] });
const deadline = setTimeout(() => fail('server did not print its URL and operator key within 180 s'), 180_000);

function fail(msg) {
  process.stderr.write(`smoke: FAILED: ${msg}\n`);
  server.kill('SIGKILL');
  process.exit(1);
}

let out = '';
server.stdout.on('data', async (chunk) => {
  out += chunk.toString();
  const url = /GraphQL:\s+(http:\/\/\S+)\/graphql/.exec(out)?.[1];
  const operatorKey = /\n\s+(pt_operator_\S+)/.exec(out)?.[1];
  if (!url || !operatorKey || server.smokeStarted) return;
  server.smokeStarted = true;
  clearTimeout(deadline);
  try {
    const health = await fetch(`${url}/readyz`).then((r) => r.json());
    if (health.status !== 'ok') throw new Error(`readyz: ${JSON.stringify(health)}`);
    const cli = (args, key) =>
      JSON.parse(execFileSync(process.execPath, [path.join(root, 'bin', 'pretext.js'), ...args, '--json'], { env: { ...env, PRETEXT_URL: url, PRETEXT_API_KEY: key } }).toString());
    const created = cli(['tenant', 'create', 'smoke'], operatorKey);
    const res = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${created.adminKey}` },
      body: JSON.stringify({ query: '{ viewer { tenant { id name } apiKey { role } } }' }),
    }).then((r) => r.json());
    if (res.data?.viewer?.tenant?.name !== 'smoke' || res.data.viewer.apiKey.role !== 'ADMIN') throw new Error(`viewer: ${JSON.stringify(res)}`);
    const keys = cli(['key', 'list'], created.adminKey);
    if (!Array.isArray(keys) || keys.length !== 1) throw new Error(`key list: ${JSON.stringify(keys)}`);
    // The rest of the quick start: a dataset, a training run through the local dispatcher, a model, embeddings.
    const dataFile = path.join(dataDir, 'notes.txt');
    fs.writeFileSync(dataFile, Array.from({ length: 64 }, (_, i) => `note ${i} about ${['cats', 'dogs', 'birds', 'fish'][i % 4]} and more words`).join('\n') + '\n');
    const ds = cli(['dataset', 'create', 'notes', '--modality', 'text'], created.adminKey);
    const version = cli(['dataset', 'upload', ds.id, dataFile], created.adminKey);
    if (version.status !== 'READY' || version.stats.rows !== 64) throw new Error(`dataset upload: ${JSON.stringify(version)}`);
    const started = cli(['train', '--dataset-version', version.id, '--pretext', 'masked', '--encoder', 'transformer', '--dim', '16', '--layers', '1', '--batch-size', '8', '--steps', '3', '--name', 'notes-mlm'], created.adminKey);
    const run = cli(['runs', 'watch', started.run.id], created.adminKey);
    if (run.status !== 'SUCCEEDED') throw new Error(`training run: ${JSON.stringify(run)}`);
    const emb = cli(['embed', 'notes-mlm', 'a note about cats'], created.adminKey);
    if (!emb.embeddings || emb.embeddings[0].values.length !== emb.dims) throw new Error(`embed: ${JSON.stringify(emb)}`);
    // Few labels: fine-tune the pretrained encoder on a small labeled set and predict with the new version.
    const labeledFile = path.join(dataDir, 'labeled.jsonl');
    const animals = ['cats', 'dogs', 'birds', 'fish'];
    fs.writeFileSync(labeledFile, Array.from({ length: 64 }, (_, i) => JSON.stringify({ text: `a note ${i} about ${animals[i % 4]}`, label: animals[i % 4] })).join('\n') + '\n');
    const lds = cli(['dataset', 'create', 'labeled-notes', '--modality', 'text'], created.adminKey);
    const labeled = cli(['dataset', 'upload', lds.id, labeledFile], created.adminKey);
    if (labeled.status !== 'READY') throw new Error(`labeled dataset upload: ${JSON.stringify(labeled)}`);
    const ft = cli(['finetune', '--model', 'notes-mlm', '--dataset-version', labeled.id, '--task', 'classification', '--mode', 'linear_probe', '--wait'], created.adminKey);
    if (ft.run.status !== 'SUCCEEDED' || ft.modelVersion.version !== 2 || typeof ft.modelVersion.evaluation?.accuracy !== 'number') throw new Error(`finetune: ${JSON.stringify(ft)}`);
    const pred = cli(['predict', 'notes-mlm@v2', 'a note about dogs'], created.adminKey);
    if (!animals.includes(pred.predictions?.[0]?.label)) throw new Error(`predict: ${JSON.stringify(pred)}`);
    process.stdout.write(`smoke: OK (${url}, tenant ${res.data.viewer.tenant.id}: dataset READY, run SUCCEEDED, ${emb.dims}-d embeddings, fine-tuned v2 accuracy ${ft.modelVersion.evaluation.accuracy.toFixed(2)})\n`);
    server.kill('SIGTERM');
    // A graceful shutdown that hangs is a failure too (and must not hang CI).
    const stopDeadline = setTimeout(() => fail('server did not stop within 30 s of SIGTERM'), 30_000);
    server.on('exit', () => {
      clearTimeout(stopDeadline);
      fs.rmSync(dataDir, { recursive: true, force: true });
      process.exit(0);
    });
  } catch (err) {
    fail(err.stack || String(err));
  }
});
server.on('exit', (code) => {
  if (!server.smokeStarted) fail(`server exited early with code ${code}:\n${out}`);
});
