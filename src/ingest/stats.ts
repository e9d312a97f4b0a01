// Running statistics gathered while rows stream through: split counts, label histogram, text sizes,
// sequence lengths. Constant memory apart from the label set.
import type { Row, Split } from './types';

export class RunningStats {
  rows = 0;
  splits: Record<Split, number> = { train: 0, validation: 0, test: 0 };
  labelHistogram = new Map<string, number>();
  characters = 0;
  tokens = 0;
  minLength = Infinity;
  maxLength = 0;
  totalLength = 0;

  add(row: Row): void {
    this.rows += 1;
    this.splits[row.split] += 1;
    if (row.label !== null) this.labelHistogram.set(row.label, (this.labelHistogram.get(row.label) ?? 0) + 1);
    if (row.modality === 'TEXT') {
      this.characters += row.text.length;
      this.tokens += countTokens(row.text);
    } else if (row.modality === 'SEQUENCE') {
      this.minLength = Math.min(this.minLength, row.length);
      this.maxLength = Math.max(this.maxLength, row.length);
      this.totalLength += row.length;
    }
  }

  /** Sorted labels (numeric labels in numeric order) and their counts. */
  labels(): { labels: string[]; histogram: Record<string, number> } {
    const labels = [...this.labelHistogram.keys()].sort((a, b) => {
      const na = Number(a);
      const nb = Number(b);
      return Number.isFinite(na) && Number.isFinite(nb) && a.trim() !== '' && b.trim() !== '' ? na - nb : a < b ? -1 : a > b ? 1 : 0;
    });
    const histogram: Record<string, number> = {};
    for (const l of labels) histogram[l] = this.labelHistogram.get(l)!;
    return { labels, histogram };
  }
}

/** Whitespace-separated words: a tokenizer-independent size measure (a trained tokenizer's count differs). */
export function countTokens(text: string): number {
  let n = 0;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const space = c === 32 || (c >= 9 && c <= 13) || c === 0xa0;
    if (!space && !inWord) n += 1;
    inWord = !space;
  }
  return n;
}

/** RunningStats as plain JSON (a sharded processing job's part result carries its part's statistics). */
export interface RunningStatsJson {
  rows: number;
  splits: Record<Split, number>;
  labelHistogram: Record<string, number>;
  characters: number;
  tokens: number;
  /** null when the part holds no sequence rows (JSON has no Infinity). */
  minLength: number | null;
  maxLength: number;
  totalLength: number;
}

export function statsToJson(s: RunningStats): RunningStatsJson {
  return {
    rows: s.rows,
    splits: { ...s.splits },
    labelHistogram: Object.fromEntries(s.labelHistogram),
    characters: s.characters,
    tokens: s.tokens,
    minLength: Number.isFinite(s.minLength) ? s.minLength : null,
    maxLength: s.maxLength,
    totalLength: s.totalLength,
  };
}

/** Adds a part's statistics into `into` (sums, min/max, histogram union): the merge of two disjoint row sets. */
export function mergeStats(into: RunningStats, part: RunningStatsJson): void {
  into.rows += part.rows;
  for (const k of ['train', 'validation', 'test'] as const) into.splits[k] += part.splits[k];
  for (const [label, n] of Object.entries(part.labelHistogram)) into.labelHistogram.set(label, (into.labelHistogram.get(label) ?? 0) + n);
  into.characters += part.characters;
  into.tokens += part.tokens;
  if (part.minLength !== null) into.minLength = Math.min(into.minLength, part.minLength);
  into.maxLength = Math.max(into.maxLength, part.maxLength);
  into.totalLength += part.totalLength;
}
