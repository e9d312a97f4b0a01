// The deterministic WordPiece learner (src/contracts/wordpiece-trainer.ts) and the word split it learns from, against
// the real `tokenizers` binding's BertPreTokenizer. No mocks: the binding is the one the platform ships.
import { bertNormalizer, bertPreTokenizer } from 'tokenizers';
import { learnWordPieces } from '../../../src/contracts/wordpiece-trainer';
import { bertWords, TextTokenizer } from '../../../src/contracts/tokenizer';
import { createRng } from '../../../src/training/rng';
import { hasSpam, spamTexts, tinyTexts } from '../data/fixtures';

const HUG = new Map([['hug', 10], ['pug', 5], ['pun', 12], ['bun', 4], ['hugs', 5]]);

describe('learnWordPieces', () => {
  it('learns the most frequent pair first and breaks ties by the pieces\' strings', () => {
    // Worked by hand: (##u,##g) 20 → ##ug; (##u,##n) 16 → ##un; (h,##ug) 15 → hug; (p,##un) 12 → pun; then a tie at 5
    // between (p,##ug) and (hug,##s): "hug" < "p", so hugs before pug; then (b,##un) 4 → bun.
    expect(learnWordPieces(HUG, { budget: 100 })).toEqual([
      '##g', '##n', '##s', '##u', 'b', 'h', 'p', '##ug', '##un', 'hug', 'pun', 'hugs', 'pug', 'bun',
    ]);
    expect(learnWordPieces(HUG, { budget: 12 })).toEqual(['##g', '##n', '##s', '##u', 'b', 'h', 'p', '##ug', '##un', 'hug', 'pun', 'hugs']);
  });

  it('depends only on the counts, never on the order words were counted in (the binding\'s trainer does)', () => {
    const texts = tinyTexts(300, 4).rows.map((r) => r.text);
    const counts = new Map<string, number>();
    for (const t of texts) for (const w of bertWords(t.toLowerCase())) counts.set(w, (counts.get(w) ?? 0) + 1);
    const entries = [...counts];
    const reference = learnWordPieces(counts, { budget: 100 });
    expect(reference).toHaveLength(100);
    for (let s = 0; s < 3; s++) {
      const order = createRng(s, 'wordpiece-test').permutation(entries.length);
      const shuffled = new Map(Array.from(order, (i) => entries[i]!));
      expect(learnWordPieces(shuffled, { budget: 100 })).toEqual(reference);
    }
  });

  it('stops when no pair is left and lists a piece reached by two merges once', () => {
    // "abc" is reached as (ab, ##c) in one word and (a, ##bc) in another, whichever merges come first.
    const v = learnWordPieces(new Map([['abc', 3], ['xbc', 2], ['abz', 2]]), { budget: 1000 });
    expect(new Set(v).size).toBe(v.length);
    expect(v).toContain('abc');
    expect(v).toContain('xbc');
    expect(v).toContain('abz');
  });
});

describe('bertWords', () => {
  const normalizer = bertNormalizer({ lowercase: true });
  const library = (s: string) => bertPreTokenizer().preTokenizeString(normalizer.normalizeString(s)).map(([w]) => w);
  it('splits exactly like the binding\'s BertPreTokenizer', () => {
    const tricky = [
      'Hello, world! (e-mail: a.b@c.org) $5+3=8 ^_^ ~tilde~ `code` {x|y} [z]',
      'non\u00a0breaking\u2003em\u3000ideographic \t tabs\nnew lines',
      'naïve café — “quotes” «guillemets» ¿qué? ¡sí! 1,000.50 € ¥ £',
      '中文字符和日本語のテキスト 한국어 emoji 🙂🚀 mixed',
      'zero\u200bwidth bom\ufeffhere soft\u00adhyphen',
    ];
    for (const s of tricky) expect(bertWords(normalizer.normalizeString(s))).toEqual(library(s));
  });

  (hasSpam ? it : it.skip)('matches the binding on 300 real SpamAssassin mails (skipped without ../shared/datasets)', () => {
    for (const t of spamTexts(300).rows.map((r) => r.text)) expect(bertWords(normalizer.normalizeString(t))).toEqual(library(t));
  });
});

describe('TextTokenizer.train determinism where the binding\'s trainer broke it', () => {
  (hasSpam ? it : it.skip)('gives the same tokenizer.json in a fresh process (skipped without ../shared/datasets)', async () => {
    const rows = spamTexts(400).rows.map((r) => r.text);
    const here = (await TextTokenizer.train(rows, { vocabSize: 1500 })).toJSON();
    const { execFileSync } = await import('node:child_process');
    const script = [
      "const { TextTokenizer } = require('./src/contracts/tokenizer');",
      "const { spamTexts } = require('./tests/training/data/fixtures');",
      'TextTokenizer.train(spamTexts(400).rows.map((r) => r.text), { vocabSize: 1500 }).then((t) => process.stdout.write(t.toJSON()));',
    ].join('\n');
    const there = execFileSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: process.cwd(), maxBuffer: 64 << 20, encoding: 'utf8' });
    expect(there).toBe(here);
  }, 120_000);
});
