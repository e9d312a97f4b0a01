// A deterministic WordPiece vocabulary learner. The `tokenizers` binding's trainer breaks ties between equally
// frequent merges in hash order, so two trainings on the same texts learn slightly different pieces (5 of 4 000 on
// SpamAssassin) and, because ids follow piece frequencies, renumber thousands of them: a TEXT pretraining run could
// not be reproduced across processes. This learner runs the same algorithm with every tie broken by the pieces'
// strings, so the same word counts always give the same pieces in the same order.
//
// Algorithm (the one Hugging Face's WordPiece trainer runs: BPE merges over words spelled with a continuation prefix):
//   word w with count c_w, spelled s_0, ##s_1, …, ##s_n (first character bare, the others prefixed)
//   repeat until the vocabulary holds `budget` pieces or no adjacent pair is left:
//     (a, b) = argmax over adjacent pairs of Σ_w c_w · occurrences of (a, b) in w   (ties: smaller a, then smaller b)
//     new piece ab = a + b without b's prefix (a ## stays: ##x + ##y → ##xy); replace every (a, b) left to right
// The vocabulary is the alphabet (every bare and prefixed character seen, sorted) followed by the merged pieces in
// the order they were learned; a piece reached by two different merges is listed once.
//
// Cost: a lazy max-heap of pair counts (stale entries are skipped when popped) and, per pair, the words that contain
// it, so one merge touches only the words it changes.

export interface WordPieceLearnOptions {
  /** Pieces to learn, alphabet included. */
  budget: number;
  /** Continuation prefix of pieces inside a word. Default '##'. */
  prefix?: string;
}

/** Learns WordPiece pieces from word counts; the result depends only on the counts (never on Map order). */
export function learnWordPieces(wordCounts: ReadonlyMap<string, number>, options: WordPieceLearnOptions): string[] {
  const prefix = options.prefix ?? '##';
  const pieces: string[] = [];
  const idOf = new Map<string, number>();
  const intern = (p: string): number => {
    let id = idOf.get(p);
    if (id === undefined) { id = pieces.length; pieces.push(p); idOf.set(p, id); }
    return id;
  };

  const entries = [...wordCounts].filter(([w, c]) => w.length > 0 && c > 0).sort((x, y) => compare(x[0], y[0]));
  const counts = entries.map(([, c]) => c);
  // The alphabet is interned first, in sorted order, so piece ids (which break no ties: strings do) are stable too.
  const alphabet = new Set<string>();
  const spelled = entries.map(([w]) => [...w].map((ch, i) => (i === 0 ? ch : prefix + ch)));
  for (const s of spelled) for (const p of s) alphabet.add(p);
  for (const p of [...alphabet].sort(compare)) intern(p);
  const words: number[][] = spelled.map((s) => s.map((p) => idOf.get(p)!));
  const vocab: string[] = [...pieces];

  // Pair key a·SHIFT + b, SHIFT = the most ids there can be: for a 30 000 budget over an alphabet of < 2 700 characters
  // every key is a small integer (< 2^30), which V8's Maps hash far faster than doubles; larger ones stay exact.
  const SHIFT = pieces.length + options.budget + 1;
  const pairCount = new Map<number, number>();
  const pairWords = new Map<number, Set<number>>();
  const wordsOf = (key: number): Set<number> => {
    let set = pairWords.get(key);
    if (!set) pairWords.set(key, (set = new Set()));
    return set;
  };
  for (let w = 0; w < words.length; w++) {
    const s = words[w]!;
    for (let i = 0; i + 1 < s.length; i++) {
      const key = s[i]! * SHIFT + s[i + 1]!;
      pairCount.set(key, (pairCount.get(key) ?? 0) + counts[w]!);
      wordsOf(key).add(w);
    }
  }
  // Lazy max-heap: a pair's count only grows by a push; when it shrinks its old entry stays, and popping a stale entry
  // re-pushes the current count. Every live pair thus has an entry at least as high as its count, so the first
  // current entry popped is the true maximum (ties by strings, see PairHeap).
  const heap = new PairHeap((key) => [pieces[Math.floor(key / SHIFT)]!, pieces[key % SHIFT]!]);
  for (const [key, c] of pairCount) heap.push(c, key);

  const inVocab = new Set(vocab);
  const delta = new Map<number, number>();
  while (vocab.length < options.budget) {
    const top = heap.pop();
    if (!top) break;
    const [stored, key] = top;
    const count = pairCount.get(key) ?? 0;
    if (count <= 0) continue;
    if (count !== stored) { heap.push(count, key); continue; }
    const a = Math.floor(key / SHIFT);
    const b = key % SHIFT;
    const right = pieces[b]!;
    const merged = pieces[a]! + (right.startsWith(prefix) ? right.slice(prefix.length) : right);
    const m = intern(merged);
    if (!inVocab.has(merged)) { inVocab.add(merged); vocab.push(merged); }
    delta.clear();
    for (const w of pairWords.get(key)!) {
      const s = words[w]!;
      const c = counts[w]!;
      const next: number[] = [];
      for (let i = 0; i < s.length; i++) {
        if (i + 1 < s.length && s[i] === a && s[i + 1] === b) { next.push(m); i++; } else next.push(s[i]!);
      }
      if (next.length === s.length) continue; // the word lost this pair to an earlier merge
      for (let i = 0; i + 1 < s.length; i++) { const k = s[i]! * SHIFT + s[i + 1]!; delta.set(k, (delta.get(k) ?? 0) - c); }
      for (let i = 0; i + 1 < next.length; i++) {
        const k = next[i]! * SHIFT + next[i + 1]!;
        delta.set(k, (delta.get(k) ?? 0) + c);
        // Only pairs next to the new piece can be new to this word.
        if (next[i] === m || next[i + 1] === m) wordsOf(k).add(w);
      }
      words[w] = next;
    }
    pairWords.delete(key);
    for (const [k, d] of delta) {
      if (d === 0) continue;
      const c = (pairCount.get(k) ?? 0) + d;
      if (c <= 0) { pairCount.delete(k); pairWords.delete(k); continue; }
      pairCount.set(k, c);
      if (d > 0) heap.push(c, k);
    }
  }
  return vocab;
}

function compare(a: string, b: string): number { return a < b ? -1 : a > b ? 1 : 0; }

/** Binary max-heap of (count, pair key); equal counts order by the pair's strings (left piece, then right). */
class PairHeap {
  private readonly counts: number[] = [];
  private readonly keys: number[] = [];
  constructor(private readonly strings: (key: number) => [string, string]) {}

  push(count: number, key: number): void {
    this.counts.push(count);
    this.keys.push(key);
    let i = this.counts.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  pop(): [number, number] | undefined {
    const n = this.counts.length;
    if (n === 0) return undefined;
    const out: [number, number] = [this.counts[0]!, this.keys[0]!];
    this.swap(0, n - 1);
    this.counts.pop();
    this.keys.pop();
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let best = i;
      if (l < this.counts.length && this.before(l, best)) best = l;
      if (r < this.counts.length && this.before(r, best)) best = r;
      if (best === i) break;
      this.swap(i, best);
      i = best;
    }
    return out;
  }

  private before(i: number, j: number): boolean {
    const ci = this.counts[i]!;
    const cj = this.counts[j]!;
    if (ci !== cj) return ci > cj;
    const ki = this.keys[i]!;
    const kj = this.keys[j]!;
    if (ki === kj) return false;
    const [ai, bi] = this.strings(ki);
    const [aj, bj] = this.strings(kj);
    return ai !== aj ? ai < aj : bi < bj;
  }

  private swap(i: number, j: number): void {
    [this.counts[i], this.counts[j]] = [this.counts[j]!, this.counts[i]!];
    [this.keys[i], this.keys[j]] = [this.keys[j]!, this.keys[i]!];
  }
}
