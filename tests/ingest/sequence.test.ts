import type { SequenceRow } from '../../src/ingest';
import { codes, fileOf, ingest, ingestFails, npy, wav } from './helpers';

const SEQ2 = { modality: 'SEQUENCE', length: null, features: 2 } as const;
const vals = (r: unknown) => Array.from((r as SequenceRow).values);

describe('sequence formats', () => {
  test('.csv long layout: sequence_id,t,features…,label', async () => {
    const body = 'sequence_id,t,x,y,label\na,0,1,2,up\na,1,3,4,up\nb,0,5,6,down\nb,1,7,8,down\nb,2,9,10,down\n';
    const { rows, manifest } = await ingest([fileOf('s.csv', body)], SEQ2);
    expect(rows.map((r) => (r as SequenceRow).length)).toEqual([2, 3]);
    expect(rows.map(vals)).toEqual([
      [1, 2, 3, 4],
      [5, 6, 7, 8, 9, 10],
    ]);
    expect(rows.map((r) => r.label)).toEqual(['up', 'down']);
    expect(manifest.stats.sequenceLength).toEqual({ min: 2, max: 3, mean: 2.5 });
  });

  test('.jsonl: {"sequence": [[...]], "label"?}, and a flat list for one feature', async () => {
    const body = '{"sequence":[[1,2],[3,4],[5,6]],"label":1}\n{"sequence":[[0.5,-1]]}\n';
    const { rows } = await ingest([fileOf('s.jsonl', body)], SEQ2);
    expect(rows.map(vals)).toEqual([[1, 2, 3, 4, 5, 6], [0.5, -1]]);
    expect(rows.map((r) => r.label)).toEqual(['1', null]);
    const one = await ingest([fileOf('s.jsonl', '{"sequence":[1,2,3]}\n')], { modality: 'SEQUENCE', length: 3, features: 1 });
    expect(vals(one.rows[0])).toEqual([1, 2, 3]);
  });

  test('.npy 3-D [N,T,F] float32, 2-D [N,T*F] float64 and int32', async () => {
    const shape = { modality: 'SEQUENCE', length: 3, features: 2 } as const;
    const data = Array.from({ length: 2 * 3 * 2 }, (_, i) => i / 4);
    for (const f of [npy('<f4', [2, 3, 2], data), npy('<f8', [2, 6], data)]) {
      const { rows } = await ingest([fileOf('x.npy', f)], shape);
      expect(rows.map(vals)).toEqual([data.slice(0, 6), data.slice(6)]);
      expect(rows.map((r) => (r as SequenceRow).length)).toEqual([3, 3]);
    }
    const ints = await ingest([fileOf('i.npy', npy('<i4', [1, 6], [1, -2, 3, 4, 5, 6]))], shape);
    expect(vals(ints.rows[0])).toEqual([1, -2, 3, 4, 5, 6]);
  });

  test('.npy with a sibling labels file (train.npy + train.labels.npy); a lone labels file is reported', async () => {
    const shape = { modality: 'SEQUENCE', length: 2, features: 1 } as const;
    const { rows, manifest } = await ingest([fileOf('train.npy', npy('<f4', [3, 2], [1, 2, 3, 4, 5, 6])), fileOf('train.labels.npy', npy('<i4', [3], [4, 0, 4]))], shape);
    expect(rows.map((r) => r.label)).toEqual(['4', '0', '4']);
    expect(manifest.labelHistogram).toEqual({ '0': 1, '4': 2 });
    const e = await ingestFails([fileOf('x.npy', npy('<f4', [1, 2], [1, 2])), fileOf('y-labels.npy', npy('<i4', [1], [1]))], shape);
    expect(e.problems).toEqual([expect.objectContaining({ file: 'y-labels.npy', code: 'MISSING_FILE' })]);
    const e2 = await ingestFails([fileOf('x.npy', npy('<f4', [1, 2], [1, 2])), fileOf('x_labels.npy', npy('<i4', [2], [1, 2]))], shape);
    expect(e2.problems).toEqual([expect.objectContaining({ file: 'x.npy', code: 'CORRUPT_FILE' })]);
  });

  test('.wav in a <label>/ folder is labelled by it', async () => {
    const { rows } = await ingest([fileOf('speech/a.wav', wav('pcm16', 2, [[0, 0]]))], SEQ2);
    expect(rows[0]!.label).toBe('speech');
  });

  test('.wav PCM16 stereo → frames × channels; float32 mono cut into windows of the declared length', async () => {
    const frames = [
      [0.5, -0.5],
      [0.25, 0],
      [-1, 0.75],
    ];
    const { rows } = await ingest([fileOf('a.wav', wav('pcm16', 2, frames))], SEQ2);
    expect(rows).toHaveLength(1);
    expect((rows[0] as SequenceRow).length).toBe(3);
    expect(vals(rows[0])).toEqual(frames.flat());

    const mono = Array.from({ length: 10 }, (_, i) => [i / 10]);
    const w = await ingest([fileOf('m.wav', wav('float32', 1, mono))], { modality: 'SEQUENCE', length: 4, features: 1 });
    expect(w.rows).toHaveLength(2); // 10 frames → two windows of 4; the 2-frame tail is dropped
    expect(vals(w.rows[1])).toEqual(Array.from(new Float32Array([0.4, 0.5, 0.6, 0.7])));
  });
});

describe('bad sequence input', () => {
  test('ragged sequence in .jsonl and mixed shapes across rows', async () => {
    const body = '{"sequence":[[1,2],[3]]}\n{"sequence":[[1,2,3]]}\n{"sequence":[[1,2],5]}\n{"sequence":[]}\n';
    const e = await ingestFails([fileOf('s.jsonl', body)], SEQ2);
    expect(e.problems.map((p) => [p.line, p.code])).toEqual([
      [1, 'BAD_SHAPE'],
      [2, 'BAD_SHAPE'],
      [3, 'BAD_SHAPE'],
      [4, 'BAD_SHAPE'],
    ]);
  });

  test('fixed declared length is enforced', async () => {
    const e = await ingestFails([fileOf('s.jsonl', '{"sequence":[[1,2],[3,4]]}\n')], { modality: 'SEQUENCE', length: 3, features: 2 });
    expect(e.problems[0]).toMatchObject({ line: 1, code: 'BAD_SHAPE' });
  });

  test('NaN / Infinity in .csv, .jsonl (1e999) and .npy', async () => {
    const csv = 'sequence_id,t,x,y\na,0,1,NaN\nb,0,Infinity,2\nc,0,1,2\nd,0,1e39,0\n';
    const e = await ingestFails(
      [fileOf('s.csv', csv), fileOf('s.jsonl', '{"sequence":[[1,1e999]]}\n'), fileOf('s.npy', npy('<f4', [2, 2], [1, 2, NaN, 4]))],
      SEQ2,
    );
    expect(e.problems.map((p) => [p.file, p.line ?? p.row, p.code])).toEqual([
      ['s.csv', 2, 'NON_FINITE'],
      ['s.csv', 3, 'NON_FINITE'],
      ['s.csv', 5, 'NON_FINITE'], // finite as a double, Infinity as float32
      ['s.jsonl', 1, 'NON_FINITE'],
      ['s.npy', 1, 'NON_FINITE'],
    ]);
  });

  test('sequence CSV: wrong header, ragged rows, t out of order, feature count mismatch', async () => {
    const e1 = await ingestFails([fileOf('h.csv', 'id,time,x,y\n1,0,1,2\n')], SEQ2);
    expect(e1.problems[0]).toMatchObject({ file: 'h.csv', line: 1, code: 'BAD_CSV_HEADER' });
    const e2 = await ingestFails([fileOf('r.csv', 'sequence_id,t,x,y\na,0,1,2\na,1,3\nb,1,1,2\n')], SEQ2);
    expect(e2.problems.map((p) => [p.line, p.code])).toEqual([
      [3, 'BAD_SHAPE'],
      [4, 'BAD_RECORD'],
    ]);
    const e3 = await ingestFails([fileOf('f.csv', 'sequence_id,t,x,y,z\na,0,1,2,3\n')], SEQ2);
    expect(codes(e3)).toEqual(['BAD_CSV_HEADER']);
  });

  test('.npy with the wrong feature count, Fortran order, or truncated data', async () => {
    const fortran = Buffer.from(npy('<f4', [1, 2], [1, 2]).toString('latin1').replace("'fortran_order': False", "'fortran_order': True "), 'latin1');
    const e = await ingestFails(
      [fileOf('a.npy', npy('<f4', [1, 2, 3], [1, 2, 3, 4, 5, 6])), fileOf('b.npy', fortran), fileOf('c.npy', npy('<f4', [2, 2], [1, 2, 3, 4]).subarray(0, 140))],
      SEQ2,
    );
    expect(e.problems.map((p) => [p.file, p.code])).toEqual([
      ['a.npy', 'BAD_SHAPE'],
      ['b.npy', 'UNSUPPORTED_FORMAT'],
      ['c.npy', 'CORRUPT_FILE'],
    ]);
  });

  test('.wav: unsupported encoding and channel mismatch', async () => {
    const eight = wav('pcm16', 1, [[0]]);
    eight.writeUInt16LE(8, 34); // bits per sample → 8
    const e = await ingestFails([fileOf('a.wav', eight), fileOf('b.wav', wav('pcm16', 3, [[0, 0, 0]]))], SEQ2);
    expect(e.problems.map((p) => [p.file, p.code])).toEqual([
      ['a.wav', 'UNSUPPORTED_FORMAT'],
      ['b.wav', 'BAD_SHAPE'],
    ]);
  });

  test('wrong modality: .wav in a text dataset, .txt in a sequence dataset; RIFF bytes named .csv', async () => {
    const e = await ingestFails([fileOf('a.wav', wav('pcm16', 1, [[0]]))], { modality: 'TEXT' });
    expect(codes(e)).toEqual(['WRONG_MODALITY']);
    const e2 = await ingestFails([fileOf('a.txt', 'x'), fileOf('b.csv', wav('pcm16', 1, [[0]]))], SEQ2);
    expect(codes(e2)).toEqual(['WRONG_MODALITY', 'WRONG_MODALITY']);
  });
});
