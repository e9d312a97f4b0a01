// Deterministic train/validation/test assignment. The rule hashes the example's content with a fixed seed, so the
// same example always lands in the same split (duplicates cannot leak from training into evaluation) and the
// assignment can be recomputed from the manifest alone.
import { createHash } from 'node:crypto';
import type { Example } from './source';
import type { Manifest, Split } from './types';

export type SplitRule = Manifest['splitRule'];

export const DEFAULT_SPLIT_RULE: SplitRule = { method: 'hash', seed: 'pretext-split-v1', validation: 0.1, test: 0.1 };

export function makeSplitRule(partial: Partial<Omit<SplitRule, 'method'>> = {}): SplitRule {
  const rule: SplitRule = { ...DEFAULT_SPLIT_RULE, ...partial, method: 'hash' };
  for (const k of ['validation', 'test'] as const) {
    if (!(rule[k] >= 0 && rule[k] < 1)) throw new RangeError(`split fraction ${k} must be in [0, 1), got ${rule[k]}. Use e.g. 0.1.`);
  }
  if (rule.validation + rule.test >= 1) {
    throw new RangeError(`validation + test fractions must leave rows for training (sum < 1), got ${rule.validation + rule.test}.`);
  }
  if (typeof rule.seed !== 'string' || rule.seed === '') throw new RangeError('split seed must be a non-empty string.');
  return rule;
}

/** The bytes an example is hashed by: UTF-8 text, raw pixels, or float32 values. The label is not part of it. */
export function contentBytes(ex: Example): Uint8Array {
  switch (ex.modality) {
    case 'TEXT':
      return Buffer.from(ex.text, 'utf8');
    case 'IMAGE':
      return ex.pixels;
    case 'SEQUENCE':
      return new Uint8Array(ex.values.buffer, ex.values.byteOffset, ex.values.byteLength);
  }
}

/** u = first 32 bits of sha256(seed ‖ 0x00 ‖ content) / 2³²; u < test → test, u < test + validation → validation. */
export function assignSplit(content: Uint8Array, rule: SplitRule): Split {
  const h = createHash('sha256').update(rule.seed).update('\0').update(content).digest();
  const u = h.readUInt32BE(0) / 2 ** 32;
  if (u < rule.test) return 'test';
  if (u < rule.test + rule.validation) return 'validation';
  return 'train';
}
