import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TextTokenizer } from '../../../src/training/tokenizer';
import { defaultSpec } from '../../../src/models/spec';
import { hasSpam, spamTexts, tinyTexts } from '../data/fixtures';
import { demandSharedData } from '../../helpers/shared-datasets';

const texts = tinyTexts(60).rows.map((r) => r.text);

describe('TextTokenizer', () => {
  let dir: string;
  beforeAll(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tok-test-')); });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('trains WordPiece with special ids matching the model spec defaults and a capped vocabulary', async () => {
    const tok = await TextTokenizer.train(texts, { vocabSize: 100 });
    const spec = defaultSpec('text', 'transformer', { vocabSize: tok.vocabSize, dim: 32 });
    if (spec.input.kind !== 'tokens') throw new Error('expected tokens input');
    expect([tok.padId, tok.clsId, tok.maskId]).toEqual([spec.input.padId, spec.input.clsId, spec.input.maskId]);
    expect(tok.vocabSize).toBeLessThanOrEqual(100);
    expect(tok.vocabSize).toBeGreaterThan(40);
  });

  it('encodes with [CLS], padding, attention mask and truncation', async () => {
    const tok = await TextTokenizer.train(texts, { vocabSize: 200 });
    const enc = await tok.encode(['the match goal', 'a very long text '.repeat(20)], 8);
    expect(enc.inputIds.length).toBe(16);
    expect(enc.inputIds[0]).toBe(tok.clsId);
    expect(enc.inputIds[8]).toBe(tok.clsId);
    expect(enc.lengths[0]).toBe(4);
    expect(Array.from(enc.attentionMask.slice(0, 8))).toEqual([1, 1, 1, 1, 0, 0, 0, 0]);
    expect(Array.from(enc.inputIds.slice(4, 8))).toEqual([tok.padId, tok.padId, tok.padId, tok.padId]);
    expect(enc.lengths[1]).toBe(8);
    await expect(tok.encode(['a very long text '.repeat(20)], 8, false)).rejects.toThrow(/more than maxLength 8; pass truncate=true/);
    expect(await tok.decode(Array.from(enc.inputIds.slice(0, 4)))).toBe('the match goal');
  });

  it('saves tokenizer.json and loads an identical tokenizer', async () => {
    const tok = await TextTokenizer.train(texts, { vocabSize: 150 });
    const file = path.join(dir, 'tokenizer.json');
    tok.save(file);
    expect(JSON.parse(fs.readFileSync(file, 'utf8')).model.type).toBe('WordPiece');
    const again = TextTokenizer.load(file);
    const sample = ['the oven and the butter', 'unseen zebra words'];
    expect(await again.encode(sample, 16)).toEqual(await tok.encode(sample, 16));
    expect(again.vocabSize).toBe(tok.vocabSize);
  });

  it('rejects an empty corpus and a tiny vocabulary', async () => {
    await expect(TextTokenizer.train([])).rejects.toThrow(/empty dataset/);
    await expect(TextTokenizer.train(texts, { vocabSize: 10 })).rejects.toThrow(/vocabSize must be an integer ≥ 64/);
  });

  it('is deterministic: the same texts always give the same tokenizer.json', async () => {
    const many = tinyTexts(300, 4).rows.map((r) => r.text);
    const first = (await TextTokenizer.train(many, { vocabSize: 90 })).toJSON();
    for (let i = 0; i < 4; i++) expect((await TextTokenizer.train(many, { vocabSize: 90 })).toJSON()).toBe(first);
  });

  (hasSpam ? it : it.skip)('tokenizes real SpamAssassin mail into mostly known pieces (skipped without ../shared/datasets)', async () => {
    const rows = spamTexts(300).rows.map((r) => r.text);
    const tok = await TextTokenizer.train(rows.slice(0, 250), { vocabSize: 2000 });
    expect((await TextTokenizer.train(rows.slice(0, 250), { vocabSize: 2000 })).toJSON()).toBe(tok.toJSON());
    const pieces = await tok.tokenize(rows.slice(250));
    const all = pieces.flatMap((p) => Array.from(p));
    const unk = all.filter((id) => id === tok.unkId).length;
    expect(all.length).toBeGreaterThan(1000);
    expect(unk / all.length).toBeLessThan(0.05);
  });
});
demandSharedData('spam-assassin.jsonl.gz (tokenizer on real mail)', hasSpam);

describe('TextTokenizer on words longer than WordPiece accepts', () => {
  it('trains on text with 100+ character words (base64 blobs in mail) and maps them to [UNK]', async () => {
    const blob = 'QUJD'.repeat(40); // 160 characters, no spaces
    const tok = await TextTokenizer.train([`see attachment ${blob} thanks`, 'plain words only here', 'more plain words'], { vocabSize: 64 });
    const enc = await tok.encode([`attachment ${blob}`], 8);
    expect(Array.from(enc.inputIds)).toContain(tok.unkId);
  });
});
