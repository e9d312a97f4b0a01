// The `pretext` CLI end to end against a real server: tenants and keys, dataset create/upload (both upload paths)
// /list/show, local training, the model registry and embeddings. Every command's --json output is parsed.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../helpers/cli';
import { registerFineTunedClassifier, registerTrainedModel } from '../helpers/models';
import { startTestPlatform, type TestPlatform } from '../helpers/platform';
import { tinyImages, tinyTexts } from '../training/data/fixtures';

describe('pretext CLI', () => {
  let t: TestPlatform;
  let dir: string;
  beforeAll(async () => {
    t = await startTestPlatform('http');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pretext-cli-'));
  });
  afterAll(async () => {
    await t?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('tenant create, key create/list/revoke', async () => {
    const created = JSON.parse(await runCli(t.url!, t.operatorKey, 'tenant', 'create', `cli-${Date.now()}`, '--json'));
    expect(created.adminKey).toMatch(/^pt_/);
    const key = JSON.parse(await runCli(t.url!, created.adminKey, 'key', 'create', 'ci', '--role', 'reader', '--json'));
    expect(key.apiKey.role).toBe('READER');
    const listed = JSON.parse(await runCli(t.url!, created.adminKey, 'key', 'list', '--json'));
    expect(listed.map((k: { id: string }) => k.id)).toContain(key.apiKey.id);
    const revoked = JSON.parse(await runCli(t.url!, created.adminKey, 'key', 'revoke', key.apiKey.id, '--json'));
    expect(revoked.revokedAt).toEqual(expect.any(String));
    await expect(runCli(t.url!, created.adminKey, 'key', 'create', 'x', '--role', 'owner', '--json')).rejects.toThrow(/Should be one of: ADMIN, MEMBER, READER/);
  });

  test('dataset create, upload (GraphQL and presigned multipart paths), list, show', async () => {
    const tenant = await t.seedTenant('cli-data');
    const key = tenant.keys.MEMBER;
    const ds = JSON.parse(await runCli(t.url!, key, 'dataset', 'create', 'notes', '--modality', 'text', '--json'));
    fs.writeFileSync(path.join(dir, 'a.txt'), 'first line\nsecond line\n');
    fs.writeFileSync(path.join(dir, 'b.jsonl'), '{"text": "third", "label": "x"}\n{"text": "fourth", "label": "y"}\n');
    // A threshold of 30 bytes sends b.jsonl (61 bytes) through startMultipartUpload + presigned part PUTs.
    const version = JSON.parse(await runCli(t.url!, key, 'dataset', 'upload', ds.id, path.join(dir, 'a.txt'), path.join(dir, 'b.jsonl'), '--multipart-threshold', '30', '--json'));
    expect(version.status).toBe('READY');
    expect(version.stats.rows).toBe(4);
    expect(version.files.map((f: { name: string }) => f.name).sort()).toEqual(['a.txt', 'b.jsonl']);
    const list = JSON.parse(await runCli(t.url!, key, 'dataset', 'list', '--json'));
    expect(list.map((d: { name: string }) => d.name)).toEqual(['notes']);
    const shown = JSON.parse(await runCli(t.url!, key, 'dataset', 'show', ds.id, '--json'));
    expect(shown.versions[0].stats.rows).toBe(4);
  });

  test('train --local on a data folder prints the training summary JSON and writes the model', async () => {
    const data = path.join(dir, 'texts');
    fs.mkdirSync(data);
    fs.writeFileSync(path.join(data, 'train.txt'), tinyTexts(40).rows.map((r) => r.text).join('\n') + '\n');
    const out = JSON.parse(
      await runCli(t.url!, undefined, 'train', '--local', '--data', data, '--modality', 'text', '--pretext', 'masked', '--steps', '4', '--batch-size', '8', '--dim', '16', '--layers', '1', '--out', path.join(dir, 'run'), '--json'),
    );
    expect(out).toMatchObject({ backend: 'wasm', steps: 4, outputDir: path.join(dir, 'run', 'model') });
    expect(Number.isFinite(out.initialLoss) && Number.isFinite(out.finalLoss)).toBe(true);
    expect(fs.existsSync(path.join(dir, 'run', 'model', 'tokenizer.json'))).toBe(true);
  });

  test('models list/show/alias and embed', async () => {
    const tenant = await t.seedTenant('cli-models');
    const texts = tinyTexts(16);
    const m = await registerTrainedModel(t, tenant, { modality: 'TEXT', pretext: 'MASKED', rows: texts.rows, shape: texts.shape, name: 'cli-words' });
    m.result.model.dispose();
    m.result.heads.dispose();
    const list = JSON.parse(await runCli(t.url!, tenant.keys.READER, 'models', 'list', '--json'));
    expect(list.map((x: { name: string }) => x.name)).toEqual(['cli-words']);
    const alias = JSON.parse(await runCli(t.url!, tenant.keys.MEMBER, 'models', 'alias', m.modelId, 'production', m.versionId, '--json'));
    expect(alias.version.version).toBe(1);
    const shown = JSON.parse(await runCli(t.url!, tenant.keys.READER, 'models', 'show', m.modelId, '--json'));
    expect(shown.versions[0].aliases).toEqual(['production']);
    const emb = JSON.parse(await runCli(t.url!, tenant.keys.READER, 'embed', 'cli-words@production', 'hello there', 'general kenobi', '--dimensions', '8', '--json'));
    expect(emb.embeddings).toHaveLength(2);
    expect(emb.embeddings[0].values).toHaveLength(8);
  });

  test('predict and eval on a fine-tuned classifier', async () => {
    const tenant = await t.seedTenant('cli-predict');
    const images = tinyImages(24, 7);
    const m = await registerFineTunedClassifier(t, tenant, { rows: images.rows, shape: images.shape, name: 'cli-shapes' });
    const png = path.join(dir, 'q.png');
    const sharp = (await import('sharp')).default;
    await sharp(Buffer.from(images.rows[0]!.pixels), { raw: { width: 8, height: 8, channels: 1 } }).png().toFile(png);
    const out = JSON.parse(await runCli(t.url!, tenant.keys.READER, 'predict', 'cli-shapes', `@${png}`, '--top-k', '2', '--json'));
    expect(out.task).toBe('CLASSIFICATION');
    expect(out.predictions[0].top).toHaveLength(2);
    expect(m.labels).toContain(out.predictions[0].label);
    const table = await runCli(t.url!, tenant.keys.READER, 'models', 'show', m.modelId);
    expect(table).toMatch(/ CLASSIFICATION .*accuracy \d\.\d{4}/);
    expect(table).toMatch(/^\s*1\s/m);
    const ev = JSON.parse(await runCli(t.url!, tenant.keys.READER, 'eval', m.versionId, '--json'));
    expect(ev.evaluation).toMatchObject({ task: 'CLASSIFICATION', accuracy: expect.any(Number), macroF1: expect.any(Number) });
    // By reference, as text: the metrics and the confusion matrix with its class names.
    const text = await runCli(t.url!, tenant.keys.READER, 'eval', 'cli-shapes@v1');
    expect(text).toContain('cli-shapes v1');
    expect(text).toMatch(/accuracy: [\d.]+\n/);
    expect(text).toContain('confusion (rows actual, columns predicted):');
    for (const label of m.labels) expect(text).toContain(label);
  });

  test('unknown benchmarks list the valid ones', async () => {
    await expect(runCli(t.url!, undefined, 'bench', 'nope', '--json')).rejects.toThrow(/Should be one of: ingest, train, embed, label-efficiency/);
  });
});
