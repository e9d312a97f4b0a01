// .npy (NumPy format v1–v3): C-order float32/float64/integer arrays, shape [N, T*F] (rows of flattened sequences,
// F from the dataset's declared features) or [N, T, F]. Rows stream one at a time. Labels come from an optional
// sibling file `<name>.labels.npy` (or `-labels` / `_labels`): a 1-D [N] (or [N, 1]) integer or float array,
// read in lockstep; each value becomes the label string (3.0 → "3").
import { ByteReader } from '../bytes';
import { InputError } from '../errors';
import type { Example, ReadContext } from '../source';
import { firstNonFinite, nonFiniteError } from './common';

interface NpyHeader {
  dtype: string;
  shape: number[];
}

const DTYPES: Record<string, { size: number; get: (v: DataView, o: number, le: boolean) => number }> = {
  f4: { size: 4, get: (v, o, le) => v.getFloat32(o, le) },
  f8: { size: 8, get: (v, o, le) => v.getFloat64(o, le) },
  i1: { size: 1, get: (v, o) => v.getInt8(o) },
  u1: { size: 1, get: (v, o) => v.getUint8(o) },
  i2: { size: 2, get: (v, o, le) => v.getInt16(o, le) },
  u2: { size: 2, get: (v, o, le) => v.getUint16(o, le) },
  i4: { size: 4, get: (v, o, le) => v.getInt32(o, le) },
  u4: { size: 4, get: (v, o, le) => v.getUint32(o, le) },
  i8: { size: 8, get: (v, o, le) => Number(v.getBigInt64(o, le)) },
  u8: { size: 8, get: (v, o, le) => Number(v.getBigUint64(o, le)) },
};

async function readHeader(r: ByteReader): Promise<NpyHeader> {
  const pre = await r.read(10);
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (pre.length < 10 || !magic.every((b, i) => pre[i] === b)) throw new InputError('CORRUPT_FILE', 'not a NumPy .npy file (bad magic)');
  const major = pre[6]!;
  let headerLen: number;
  if (major === 1) {
    headerLen = pre.readUInt16LE(8);
  } else if (major === 2 || major === 3) {
    // v2/v3 have a 4-byte length at offset 8: two of its bytes were read already.
    const more = await r.read(2);
    headerLen = Buffer.concat([pre.subarray(8, 10), more]).readUInt32LE(0);
  } else {
    throw new InputError('UNSUPPORTED_FORMAT', `Unsupported .npy version: ${major}. Should be one of: 1, 2, 3.`);
  }
  if (headerLen > 1 << 20) throw new InputError('CORRUPT_FILE', '.npy header is implausibly large');
  const text = (await r.read(headerLen)).toString('latin1');
  const descr = /'descr'\s*:\s*'([<>|=])([a-z]\d+)'/.exec(text);
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(text);
  const shape = /'shape'\s*:\s*\(([^)]*)\)/.exec(text);
  if (!descr || !fortran || !shape) throw new InputError('CORRUPT_FILE', `.npy header is not understood: ${text.trim()}`);
  if (fortran[1] === 'True') throw new InputError('UNSUPPORTED_FORMAT', '.npy arrays must be C-order (fortran_order False); save with np.ascontiguousarray');
  if (!(descr[2]! in DTYPES)) {
    throw new InputError('UNSUPPORTED_FORMAT', `Unsupported .npy dtype: "${descr[2]}". Should be one of: ${Object.keys(DTYPES).join(', ')}.`);
  }
  const dims = shape[1]!
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map(Number);
  return { dtype: (descr[1] === '>' ? '>' : '<') + descr[2], shape: dims };
}

export async function* readNpy(
  source: AsyncIterable<Buffer>,
  file: string,
  ctx: ReadContext,
  labels: { source: AsyncIterable<Buffer>; file: string } | null = null,
): AsyncGenerator<Example> {
  const r = new ByteReader(source);
  const rl = labels ? new ByteReader(labels.source) : null;
  try {
    const { dtype, shape } = await readHeader(r);
    let readLabel: (() => Promise<string>) | null = null;
    if (rl) {
      const lh = await readHeader(rl);
      const lk = DTYPES[lh.dtype.slice(1)]!;
      const lle = lh.dtype[0] === '<';
      if (!(lh.shape.length === 1 || (lh.shape.length === 2 && lh.shape[1] === 1)) || lh.shape[0] !== shape[0]) {
        throw new InputError('CORRUPT_FILE', `labels file "${labels!.file}" has shape [${lh.shape.join(', ')}]; expected [${shape[0]}]`);
      }
      readLabel = async () => {
        const b = await rl.read(lk.size);
        return String(lk.get(new DataView(b.buffer, b.byteOffset, b.byteLength), 0, lle));
      };
    }
    const le = dtype[0] === '<';
    const kind = DTYPES[dtype.slice(1)]!;
    let n: number;
    let length: number;
    let features: number;
    if (shape.length === 3) {
      [n, length, features] = shape as [number, number, number];
      const bad = ctx.lock.lockFeatures(features);
      if (bad) throw new InputError('BAD_SHAPE', `array [${shape.join(', ')}] ${bad}`);
    } else if (shape.length === 2) {
      n = shape[0]!;
      features = ctx.lock.features ?? 1;
      if (ctx.lock.features === null) ctx.lock.lockFeatures(1);
      if (shape[1]! % features !== 0) {
        throw new InputError('BAD_SHAPE', `array [${shape.join(', ')}]: ${shape[1]} columns are not a whole number of time steps of ${features} feature(s)`);
      }
      length = shape[1]! / features;
    } else {
      throw new InputError('BAD_SHAPE', `array shape [${shape.join(', ')}] must be [N, T*F] or [N, T, F]`);
    }
    if (n === 0) throw new InputError('EMPTY_FILE', 'array has no rows');
    const badLen = ctx.lock.checkLength(length);
    if (badLen) throw new InputError('BAD_SHAPE', `rows ${badLen}`);
    if (length * features > ctx.limits.maxSequenceValues) {
      throw new InputError('TOO_LARGE', `rows have more than ${ctx.limits.maxSequenceValues} values (limit maxSequenceValues)`);
    }
    const count = length * features;
    const rowBytes = count * kind.size;
    for (let i = 0; i < n; i++) {
      const buf = await r.read(rowBytes);
      if (buf.length < rowBytes) throw new InputError('CORRUPT_FILE', `file is truncated: expected ${n} rows, got ${i}`, { row: i });
      const label = readLabel ? await readLabel() : null;
      const values = new Float32Array(count);
      if (dtype === '<f4') {
        values.set(new Float32Array(buf.buffer, buf.byteOffset, count));
      } else {
        const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
        for (let k = 0; k < count; k++) values[k] = kind.get(view, k * kind.size, le);
      }
      const nf = firstNonFinite(values);
      if (nf >= 0) {
        const e = nonFiniteError(values, nf, features);
        ctx.problems.report({ file, row: i }, e.code, e.message);
        continue;
      }
      yield { modality: 'SEQUENCE', values, length, label, at: { file, row: i } };
    }
    if (!(await r.atEnd())) throw new InputError('CORRUPT_FILE', `file has bytes after the ${n} rows its header declares`);
  } finally {
    await r.close();
    await rl?.close();
  }
}
