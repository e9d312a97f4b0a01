import type { Rng } from './types';
import { IGNORE_INDEX } from '../labels';

export interface MaskTokensOptions {
  /** Fraction of (non-special) tokens selected for prediction, in (0, 1). BERT: 0.15. */
  ratio: number;
  maskId: number;
  vocabSize: number;
  /** Ids never selected (padding, CLS, SEP…). */
  specialIds?: readonly number[];
  /** Of the selected tokens: share replaced by [MASK], then by a random token; the rest stay (BERT 0.8 / 0.1 / 0.1). */
  maskShare?: number;
  randomShare?: number;
}

export interface MaskedTokens {
  input: Int32Array;
  /** Original id at selected positions, IGNORE_INDEX elsewhere. */
  labels: Int32Array;
}

/**
 * BERT-style token masking. At least one eligible token is always selected, so a short text still yields a
 * training signal.
 */
export function maskTokens(ids: Int32Array, rng: Rng, options: MaskTokensOptions): MaskedTokens {
  const { ratio, maskId, vocabSize } = options;
  if (!(ratio > 0 && ratio < 1)) throw new Error(`Mask ratio must be in (0, 1); got ${ratio}. BERT uses 0.15.`);
  const maskShare = options.maskShare ?? 0.8;
  const randomShare = options.randomShare ?? 0.1;
  if (!(maskShare >= 0 && randomShare >= 0 && maskShare + randomShare <= 1)) {
    throw new Error(`maskShare + randomShare must be within [0, 1]; got ${maskShare} + ${randomShare}.`);
  }
  const special = new Set(options.specialIds ?? []);
  const input = ids.slice();
  const labels = new Int32Array(ids.length).fill(IGNORE_INDEX);
  const eligible: number[] = [];
  for (let i = 0; i < ids.length; i++) if (!special.has(ids[i]!)) eligible.push(i);
  if (eligible.length === 0) return { input, labels };
  const selected = eligible.filter(() => rng.next() < ratio);
  if (selected.length === 0) selected.push(eligible[rng.int(eligible.length)]!);
  for (const i of selected) {
    labels[i] = ids[i]!;
    const u = rng.next();
    if (u < maskShare) input[i] = maskId;
    else if (u < maskShare + randomShare) input[i] = rng.int(vocabSize);
  }
  return { input, labels };
}
