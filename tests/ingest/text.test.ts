import { gzipSync } from 'node:zlib';
import type { TextRow } from '../../src/ingest';
import { codes, fileOf, ingest, ingestFails, png } from './helpers';

const TEXT = { modality: 'TEXT' } as const;
const lines = (n: number) => Array.from({ length: n }, (_, i) => JSON.stringify({ text: `line ${i}` })).join('\n');
const texts = (rows: unknown[]) => (rows as TextRow[]).map((r) => r.text);

describe('text formats', () => {
  test('.txt: one example a line, blank lines skipped, CRLF and BOM handled', async () => {
    const { manifest, rows } = await ingest([fileOf('a.txt', '\uFEFFfirst line\r\nsecond  line\n\n   \nthird')], TEXT);
    expect(texts(rows)).toEqual(['first line', 'second  line', 'third']);
    expect(rows.map((r) => r.index)).toEqual([0, 1, 2]);
    expect(rows.every((r) => r.label === null)).toBe(true);
    expect(manifest.rows).toBe(3);
    expect(manifest.stats.characters).toBe('first line'.length + 'second  line'.length + 'third'.length);
    expect(manifest.stats.tokens).toBe(5);
    expect(manifest.labels).toEqual([]);
  });

  test('.jsonl: text + optional label, numbers stringified, extra keys ignored', async () => {
    const body = ['{"text":"héllo wörld","label":"spam"}', '{"text":"no label","id":7}', '{"text":"num","label":3}'].join('\n');
    const { manifest, rows } = await ingest([fileOf('d.jsonl', body)], TEXT);
    expect(texts(rows)).toEqual(['héllo wörld', 'no label', 'num']);
    expect(rows.map((r) => r.label)).toEqual(['spam', null, '3']);
    expect(manifest.labelHistogram).toEqual({ '3': 1, spam: 1 });
  });

  test('.jsonl.gz is inflated', async () => {
    const body = Array.from({ length: 50 }, (_, i) => JSON.stringify({ text: `message ${i}`, label: i % 2 ? 'a' : 'b' })).join('\n');
    const { manifest } = await ingest([fileOf('d.jsonl.gz', gzipSync(body))], TEXT);
    expect(manifest.rows).toBe(50);
    expect(manifest.labelHistogram).toEqual({ a: 25, b: 25 });
  });

  test('.csv: quoted fields with commas, quotes and newlines; label optional; other columns ignored', async () => {
    const body = 'id,text,label\n1,"hello, ""world""",pos\n2,"two\nlines",neg\n3,plain,\n';
    const { rows } = await ingest([fileOf('d.csv', body)], TEXT);
    expect(texts(rows)).toEqual(['hello, "world"', 'two\nlines', 'plain']);
    expect(rows.map((r) => r.label)).toEqual(['pos', 'neg', null]);
  });
});

describe('bad text input', () => {
  test('wrong CSV header names the file and line', async () => {
    const e = await ingestFails([fileOf('bad.csv', 'body,label\nx,y\n')], TEXT);
    expect(e.problems[0]).toMatchObject({ file: 'bad.csv', line: 1, code: 'BAD_CSV_HEADER' });
    expect(e.code).toBe('BAD_USER_INPUT');
  });

  test('CSV record with the wrong field count', async () => {
    const e = await ingestFails([fileOf('bad.csv', 'text,label\na,b\nc,d,e\n')], TEXT);
    expect(e.problems[0]).toMatchObject({ file: 'bad.csv', line: 3, code: 'BAD_RECORD' });
  });

  test('invalid UTF-8 is reported at its line', async () => {
    const bytes = Buffer.concat([Buffer.from('ok\nalso ok\nbad '), Buffer.from([0xc3, 0x28]), Buffer.from('\nfine\n')]);
    const e = await ingestFails([fileOf('u.txt', bytes)], TEXT);
    expect(e.problems).toEqual([expect.objectContaining({ file: 'u.txt', line: 3, code: 'INVALID_UTF8' })]);
  });

  test('oversized line', async () => {
    const e = await ingestFails([fileOf('long.txt', `short\n${'x'.repeat(5000)}\n`)], TEXT, { maxLineBytes: 1000 });
    expect(e.problems[0]).toMatchObject({ file: 'long.txt', line: 2, code: 'LINE_TOO_LONG' });
  });

  test('empty file and whitespace-only file', async () => {
    const e = await ingestFails([fileOf('empty.txt', ''), fileOf('blank.txt', '\n \n')], TEXT);
    expect(e.problems.map((p) => [p.file, p.code])).toEqual([
      ['empty.txt', 'EMPTY_FILE'],
      ['blank.txt', 'EMPTY_FILE'],
    ]);
  });

  test('bad JSON lines are listed (first N problems) and nothing is written', async () => {
    const body = ['{"text":"ok"}', '{oops', '{"label":"x"}', '[1,2]', '{"text":"fine"}'].join('\n');
    const e = await ingestFails([fileOf('d.jsonl', body)], TEXT);
    expect(e.problems.map((p) => p.line)).toEqual([2, 3, 4]);
    expect(codes(e)).toEqual(['BAD_RECORD', 'BAD_RECORD', 'BAD_RECORD']);
    expect(e.truncated).toBe(false);
  });

  test('problem list stops at maxProblems and says it was truncated', async () => {
    const body = Array.from({ length: 30 }, () => 'not json').join('\n');
    const e = await ingestFails([fileOf('d.jsonl', body)], TEXT, { maxProblems: 5 });
    expect(e.problems).toHaveLength(5);
    expect(e.truncated).toBe(true);
  });

  test('wrong modality: an image file in a text dataset, and PNG bytes named .txt', async () => {
    const image = await png(4, 4, 1);
    const e = await ingestFails([fileOf('cat.png', image), fileOf('notes.txt', image)], TEXT);
    expect(e.problems.map((p) => [p.file, p.code])).toEqual([
      ['cat.png', 'WRONG_MODALITY'],
      ['notes.txt', 'WRONG_MODALITY'],
    ]);
    expect(e.problems[0]!.message).toContain('.txt, .jsonl, .csv');
  });

  test('unsupported extension lists the valid choices', async () => {
    const e = await ingestFails([fileOf('data.docx', 'x')], TEXT);
    expect(e.problems[0]!.code).toBe('UNSUPPORTED_FORMAT');
    expect(e.problems[0]!.message).toMatch(/Should be one of: \.txt/);
  });

  test('gzip bomb in .jsonl.gz is stopped by the ratio limit while inflating', async () => {
    const bomb = gzipSync(Buffer.alloc(20 * 2 ** 20, 0x20)); // 20 MiB of spaces → ~20 KiB
    const e = await ingestFails([fileOf('bomb.jsonl.gz', bomb)], TEXT, { maxCompressionRatio: 50, ratioGraceBytes: 2 ** 20 });
    expect(e.problems[0]).toMatchObject({ file: 'bomb.jsonl.gz', code: 'ARCHIVE_BOMB' });
  });

  test('truncated gzip, and a .gz name over plain bytes', async () => {
    const gz = gzipSync(lines(200));
    const e = await ingestFails([fileOf('cut.jsonl.gz', gz.subarray(0, gz.length - 40)), fileOf('plain.txt.gz', 'hello\n')], TEXT);
    expect(e.problems.map((p) => [p.file, p.code])).toEqual([
      ['cut.jsonl.gz', 'CORRUPT_FILE'],
      ['plain.txt.gz', 'CORRUPT_FILE'],
    ]);
  });

  test('declared checksum mismatch', async () => {
    const f = fileOf('a.txt', 'hello\n');
    const e = await ingestFails([{ ...f, sha256: 'ab'.repeat(32) }], TEXT);
    expect(e.problems[0]).toMatchObject({ file: 'a.txt', code: 'CHECKSUM_MISMATCH' });
  });
});
