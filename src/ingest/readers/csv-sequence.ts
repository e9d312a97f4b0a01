// Sequence .csv, "long" layout: one time step a row.
//   header: sequence_id,t,<feature columns...>[,label]   (column order free; `label` optional)
// Rows of one sequence are contiguous and `t` counts 0, 1, 2, … within it; a new sequence starts when
// `sequence_id` changes. The feature columns are every column except sequence_id, t and label, in header order.
// The label (when present) must be the same on every row of a sequence.
import { readCsvRecords } from '../csv';
import { InputError, type Position } from '../errors';
import { readLines } from '../lines';
import type { Example, ReadContext } from '../source';
import { firstNonFinite, toLabel } from './common';

/** Growable float32 buffer: 4 bytes a value instead of a JS array's 8+. */
class FloatList {
  private buf = new Float32Array(256);
  length = 0;
  push(v: number): void {
    if (this.length === this.buf.length) {
      const next = new Float32Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    this.buf[this.length++] = v;
  }
  toArray(): Float32Array {
    return this.buf.slice(0, this.length);
  }
}

export async function* readCsvSequence(source: AsyncIterable<Buffer>, file: string, ctx: ReadContext): AsyncGenerator<Example> {
  let idCol = -1;
  let tCol = -1;
  let labelCol = -1;
  let featureCols: number[] = [];
  let width = 0;
  let current: { id: string; label: string | null; steps: FloatList; at: Position; broken: boolean } | null = null;

  function* finish(): Generator<Example> {
    const seq = current;
    current = null;
    if (!seq || seq.broken) return;
    const features = featureCols.length;
    const length = seq.steps.length / features;
    const bad = ctx.lock.checkLength(length);
    if (bad) {
      ctx.problems.report(seq.at, 'BAD_SHAPE', `sequence "${seq.id}" ${bad}`);
      return;
    }
    yield { modality: 'SEQUENCE', values: seq.steps.toArray(), length, label: seq.label, at: seq.at };
  }

  for await (const { fields, line } of readCsvRecords(readLines(source, file, ctx), ctx.limits.maxLineBytes)) {
    if (width === 0) {
      const names = fields.map((f) => f.trim().toLowerCase());
      idCol = names.indexOf('sequence_id');
      tCol = names.indexOf('t');
      labelCol = names.indexOf('label');
      featureCols = names.map((_, i) => i).filter((i) => i !== idCol && i !== tCol && i !== labelCol);
      if (idCol < 0 || tCol < 0 || featureCols.length === 0) {
        throw new InputError(
          'BAD_CSV_HEADER',
          `sequence CSV header must be sequence_id,t,<feature columns...>[,label]; found: ${fields.join(', ')}`,
          { line },
        );
      }
      const bad = ctx.lock.lockFeatures(featureCols.length);
      if (bad) throw new InputError('BAD_CSV_HEADER', `header ${bad}`, { line });
      width = fields.length;
      continue;
    }
    const at = { file, line };
    if (fields.length !== width) {
      if (current) current.broken = true;
      ctx.problems.report(at, 'BAD_SHAPE', `ragged row: ${fields.length} field(s), the header has ${width}`);
      continue;
    }
    const id = fields[idCol]!;
    if (current && current.id !== id) yield* finish();
    const t = Number(fields[tCol]);
    const expectT = current ? current.steps.length / featureCols.length : 0;
    if (current?.broken) continue;
    if (t !== expectT) {
      ctx.problems.report(at, 'BAD_RECORD', `sequence "${id}": t is ${fields[tCol]}, expected ${expectT} (rows of a sequence are contiguous, t = 0, 1, 2, …)`);
      if (current) current.broken = true;
      else current = { id, label: null, steps: new FloatList(), at, broken: true };
      continue;
    }
    let label: string | null;
    try {
      label = labelCol >= 0 ? toLabel(fields[labelCol]) : null;
    } catch (e) {
      ctx.problems.report(at, 'BAD_RECORD', (e as Error).message);
      continue;
    }
    if (!current) current = { id, label, steps: new FloatList(), at, broken: false };
    else if (current.label !== label) {
      ctx.problems.report(at, 'BAD_RECORD', `sequence "${id}" changes label from "${current.label}" to "${label}"`);
      current.broken = true;
      continue;
    }
    // fround: values are stored as float32, so 1e39 (finite as a double) must count as Infinity here.
    const row = featureCols.map((c) => (fields[c]!.trim() === '' ? NaN : Math.fround(Number(fields[c]))));
    const nf = firstNonFinite(row);
    if (nf >= 0) {
      ctx.problems.report(at, 'NON_FINITE', `feature ${nf} is "${fields[featureCols[nf]!]}" (NaN, ±Infinity and non-numbers are not allowed)`);
      current.broken = true;
      continue;
    }
    if (current.steps.length + row.length > ctx.limits.maxSequenceValues) {
      ctx.problems.report(at, 'TOO_LARGE', `sequence "${id}" has more than ${ctx.limits.maxSequenceValues} values (limit maxSequenceValues)`);
      current.broken = true;
      continue;
    }
    for (const v of row) current.steps.push(v);
  }
  yield* finish();
}
