// The one text tokenizer used by training AND inference: it imports no tfjs, so inference can load it next to an
// ONNX model. WordPiece trained with Hugging Face `tokenizers`, saved as a standard tokenizer.json.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Tokenizer, WordPiece, bertNormalizer, bertPreTokenizer, wordPieceDecoder } from 'tokenizers';
import { learnWordPieces } from './wordpiece-trainer';

/**
 * Special tokens and their fixed ids. They match the defaults of the model spec's tokens input
 * (padId 0, clsId 1, maskId 2), so a spec built with defaults agrees with every tokenizer we train.
 */
export const SPECIAL_TOKENS = { pad: '[PAD]', cls: '[CLS]', mask: '[MASK]', unk: '[UNK]', sep: '[SEP]' } as const;
/** Pieces learned before the cut to `vocabSize` (the budget of the binding's default trainer, which this replaces). */
const LEARN_BUDGET = 30_000;
/** WordPiece's default max_input_chars_per_word. */
const MAX_WORD_CHARS = 100;
const SPECIAL_ORDER = [SPECIAL_TOKENS.pad, SPECIAL_TOKENS.cls, SPECIAL_TOKENS.mask, SPECIAL_TOKENS.unk, SPECIAL_TOKENS.sep];

export interface TrainTokenizerOptions {
  /** Total vocabulary including the 5 special tokens (≥ 64). */
  vocabSize?: number;
  lowercase?: boolean;
}

export interface EncodedBatch {
  /** [texts.length × maxLength], row-major; [CLS] first, padded with padId. */
  inputIds: Int32Array;
  /** 1 for real tokens (including [CLS]), 0 for padding. */
  attentionMask: Int32Array;
  /** Real tokens per row (including [CLS]). */
  lengths: Int32Array;
  batchSize: number;
  maxLength: number;
}

export class TextTokenizer {
  readonly padId: number;
  readonly clsId: number;
  readonly maskId: number;
  readonly unkId: number;
  readonly sepId: number;

  private constructor(private readonly inner: Tokenizer) {
    const id = (t: string): number => {
      const v = inner.tokenToId(t);
      if (v === null || v === undefined) throw new Error(`tokenizer.json lacks the special token ${t}; it was not written by TextTokenizer.train.`);
      return v;
    };
    this.padId = id(SPECIAL_TOKENS.pad);
    this.clsId = id(SPECIAL_TOKENS.cls);
    this.maskId = id(SPECIAL_TOKENS.mask);
    this.unkId = id(SPECIAL_TOKENS.unk);
    this.sepId = id(SPECIAL_TOKENS.sep);
  }

  get vocabSize(): number { return this.inner.getVocabSize(true); }
  get specialIds(): number[] { return [this.padId, this.clsId, this.maskId, this.unkId, this.sepId]; }

  /**
   * Trains WordPiece on `texts`, deterministically: the same texts and options give the same tokenizer.json in any
   * process. The binding's trainer breaks ties between equally frequent merges in hash order (two trainings on the
   * same mails learned different pieces and renumbered thousands of them), so the pieces are learned by our own
   * tie-breaking WordPiece learner (`learnWordPieces`) over the words the library's normalizer and pre-tokenizer
   * produce, with a budget of LEARN_BUDGET pieces. The vocabulary is then: the special tokens (fixed ids), every
   * single-character piece (sorted; WordPiece needs them to spell any word), then the other learned pieces by how
   * often they occur when the corpus is tokenized with them (ties by string; unused pieces dropped), cut at `vocabSize`.
   */
  static async train(texts: readonly string[], options: TrainTokenizerOptions = {}): Promise<TextTokenizer> {
    const vocabSize = options.vocabSize ?? 4000;
    if (!Number.isInteger(vocabSize) || vocabSize < 64) throw new Error(`Tokenizer vocabSize must be an integer ≥ 64; got ${vocabSize}.`);
    if (texts.length === 0) throw new Error('Cannot train a tokenizer on an empty dataset: provide at least one text row.');
    const normalizer = bertNormalizer({ lowercase: options.lowercase ?? true });
    const words = new Map<string, number>();
    for (const text of texts) {
      for (const word of bertWords(normalizer.normalizeString(text))) {
        // WordPiece encodes a word longer than MAX_WORD_CHARS characters as [UNK]: no piece of it is ever used.
        if ([...word].length <= MAX_WORD_CHARS) words.set(word, (words.get(word) ?? 0) + 1);
      }
    }
    const learnedVocab: Record<string, number> = { [SPECIAL_TOKENS.unk]: 0 };
    learnWordPieces(words, { budget: LEARN_BUDGET }).forEach((p, i) => (learnedVocab[p] = i + 1));
    const learned = configure(new Tokenizer(WordPiece.init(learnedVocab, { unkToken: SPECIAL_TOKENS.unk, continuingSubwordPrefix: '##' })), options);
    const counts = new Map<string, number>();
    for (let i = 0; i < texts.length; i += 1024) {
      // WordPiece maps any word longer than 100 characters (base64 blobs, long URLs in mail) to [UNK]: leave such words
      // out of the frequency count.
      const batch = texts.slice(i, i + 1024).map((t) => t.replace(/\S{100,}/g, ' '));
      for (const e of await learned.encodeBatch(batch, { addSpecialTokens: false })) {
        for (const t of e.getTokens()) counts.set(t, (counts.get(t) ?? 0) + 1);
      }
    }
    const tokens = Object.keys(learned.getVocab(false)).filter((t) => !SPECIAL_ORDER.includes(t as (typeof SPECIAL_ORDER)[number]));
    const single = (t: string) => [...(t.startsWith('##') ? t.slice(2) : t)].length === 1;
    const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
    const alphabet = tokens.filter(single).sort(byString);
    // Pieces the corpus never uses once tokenized are intermediate merges: drop them.
    const pieces = tokens.filter((t) => !single(t) && (counts.get(t) ?? 0) > 0).sort((a, b) => (counts.get(b) ?? 0) - (counts.get(a) ?? 0) || byString(a, b));
    const vocab: Record<string, number> = {};
    SPECIAL_ORDER.forEach((t, i) => (vocab[t] = i));
    let next = SPECIAL_ORDER.length;
    for (const token of [...alphabet, ...pieces]) {
      if (next >= vocabSize) break;
      vocab[token] = next++;
    }
    const tok = configure(new Tokenizer(WordPiece.init(vocab, { unkToken: SPECIAL_TOKENS.unk, continuingSubwordPrefix: '##' })), options);
    tok.addSpecialTokens([...SPECIAL_ORDER]);
    return new TextTokenizer(tok);
  }

  static fromJSON(json: string): TextTokenizer { return new TextTokenizer(Tokenizer.fromString(json)); }
  static load(file: string): TextTokenizer { return TextTokenizer.fromJSON(fs.readFileSync(file, 'utf8')); }

  toJSON(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pretext-tok-'));
    try {
      const file = path.join(dir, 'tokenizer.json');
      this.inner.save(file);
      return fs.readFileSync(file, 'utf8');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  save(file: string): void { fs.writeFileSync(file, this.toJSON()); }

  /** Word-piece ids of each text without [CLS] or padding. */
  async tokenize(texts: readonly string[]): Promise<Int32Array[]> {
    if (texts.length === 0) return [];
    const encodings = await this.inner.encodeBatch([...texts], { addSpecialTokens: false });
    return encodings.map((e) => Int32Array.from(e.getIds()));
  }

  /**
   * [CLS] + word pieces, cut or padded to `maxLength`. With `truncate` false, a text longer than maxLength is an
   * error instead of being cut (inference callers that must not lose text).
   */
  async encode(texts: readonly string[], maxLength: number, truncate = true): Promise<EncodedBatch> {
    if (!Number.isInteger(maxLength) || maxLength < 2) throw new Error(`maxLength must be an integer ≥ 2; got ${maxLength}.`);
    const pieces = await this.tokenize(texts);
    return this.pack(pieces, maxLength, truncate);
  }

  /** Packs already tokenized rows (e.g. after a token augmentation) the same way `encode` does. */
  pack(pieces: readonly Int32Array[], maxLength: number, truncate = true): EncodedBatch {
    const n = pieces.length;
    const inputIds = new Int32Array(n * maxLength).fill(this.padId);
    const attentionMask = new Int32Array(n * maxLength);
    const lengths = new Int32Array(n);
    pieces.forEach((ids, r) => {
      if (!truncate && ids.length + 1 > maxLength) {
        throw new Error(`Text ${r} has ${ids.length + 1} tokens, more than maxLength ${maxLength}; pass truncate=true or raise maxLength.`);
      }
      const len = Math.min(ids.length + 1, maxLength);
      inputIds[r * maxLength] = this.clsId;
      inputIds.set(ids.subarray(0, len - 1), r * maxLength + 1);
      attentionMask.fill(1, r * maxLength, r * maxLength + len);
      lengths[r] = len;
    });
    return { inputIds, attentionMask, lengths, batchSize: n, maxLength };
  }

  async decode(ids: readonly number[]): Promise<string> { return this.inner.decode([...ids], true); }
}

/**
 * The words BertPreTokenizer splits a normalized text into: runs of characters that are neither White_Space nor
 * punctuation, and every punctuation character (ASCII punctuation or Unicode category P) on its own. The same split
 * as the binding's `preTokenizeString` (tests compare them), 8 × faster than crossing into it for every text.
 */
export function bertWords(normalized: string): string[] {
  return normalized.match(BERT_WORD) ?? [];
}
const BERT_WORD = /[\p{P}!-/:-@[-`{-~]|[^\p{White_Space}\p{P}!-/:-@[-`{-~]+/gu;

function configure(tok: Tokenizer, options: TrainTokenizerOptions): Tokenizer {
  tok.setNormalizer(bertNormalizer({ lowercase: options.lowercase ?? true }));
  tok.setPreTokenizer(bertPreTokenizer());
  tok.setDecoder(wordPieceDecoder());
  return tok;
}
