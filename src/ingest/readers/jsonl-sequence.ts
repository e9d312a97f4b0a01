// Sequence .jsonl: one object a line, `{"sequence": [[f0, f1, ...], ...], "label"?}` — time-major T×F.
// A flat list `[v0, v1, ...]` is read as T steps of one feature.
import { InputError } from '../errors';
import type { Example, ReadContext } from '../source';
import { firstNonFinite, nonFiniteError, toLabel } from './common';
import { readJsonl } from './jsonl';

export function readJsonlSequence(source: AsyncIterable<Buffer>, file: string, ctx: ReadContext): AsyncGenerator<Example> {
  return readJsonl(source, file, ctx, '"sequence": [[...], ...] (and optionally "label")', (obj) => {
    if (!Array.isArray(obj.sequence)) return null;
    const seq = obj.sequence as unknown[];
    const flat = seq.length > 0 && !Array.isArray(seq[0]);
    const features = flat ? 1 : Array.isArray(seq[0]) ? (seq[0] as unknown[]).length : 0;
    const length = seq.length;
    const bad = ctx.lock.checkLength(length) ?? (features > 0 ? ctx.lock.lockFeatures(features) : 'time steps are empty');
    if (bad) throw new InputError('BAD_SHAPE', `sequence ${bad}`);
    if (length * features > ctx.limits.maxSequenceValues) {
      throw new InputError('TOO_LARGE', `sequence has more than ${ctx.limits.maxSequenceValues} values (limit maxSequenceValues)`);
    }
    const values = new Float32Array(length * features);
    for (let t = 0; t < length; t++) {
      const step = seq[t];
      if (flat) {
        if (typeof step !== 'number') throw new InputError('BAD_SHAPE', `time step ${t} is not a number (mixed shapes)`);
        values[t] = step;
        continue;
      }
      if (!Array.isArray(step) || step.length !== features) {
        throw new InputError(
          'BAD_SHAPE',
          `ragged sequence: time step ${t} has ${Array.isArray(step) ? step.length : 'no'} feature(s), expected ${features}`,
        );
      }
      for (let f = 0; f < features; f++) {
        const v = step[f];
        if (typeof v !== 'number') throw new InputError('BAD_SHAPE', `time step ${t}, feature ${f} is not a number`);
        values[t * features + f] = v;
      }
    }
    const nf = firstNonFinite(values);
    if (nf >= 0) throw nonFiniteError(values, nf, features);
    return { modality: 'SEQUENCE', values, length, label: toLabel(obj.label) };
  });
}
