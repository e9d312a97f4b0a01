// IDX (the MNIST format): big-endian header — magic 0x00000803 (ubyte, 3 dims: N, rows, cols) for images and
// 0x00000801 (ubyte, 1 dim: N) for labels — then raw bytes. Images and labels are streamed in lockstep.
import { ByteReader } from '../bytes';
import { InputError } from '../errors';
import { convertGrey, type ImageShape } from '../image-decode';
import type { Example, ReadContext } from '../source';

async function readIdxHeader(r: ByteReader, dims: 1 | 3, what: string): Promise<number[]> {
  const magic = await r.read(4);
  if (magic.length < 4 || magic[0] !== 0 || magic[1] !== 0) throw new InputError('CORRUPT_FILE', `${what} is not an IDX file (bad magic)`);
  if (magic[2] !== 0x08) {
    throw new InputError('UNSUPPORTED_FORMAT', `Unsupported IDX element type 0x${magic[2]!.toString(16)} in ${what}. Should be one of: 0x08 (unsigned byte).`);
  }
  if (magic[3] !== dims) {
    throw new InputError('CORRUPT_FILE', `${what} has ${magic[3]} dimension(s); expected ${dims} (magic 0x80${dims})`);
  }
  const sizes = await r.read(4 * dims);
  if (sizes.length < 4 * dims) throw new InputError('CORRUPT_FILE', `${what} header is truncated`);
  return Array.from({ length: dims }, (_, i) => sizes.readUInt32BE(4 * i));
}

export async function* readIdx(
  images: AsyncIterable<Buffer>,
  file: string,
  labels: { source: AsyncIterable<Buffer>; file: string } | null,
  ctx: ReadContext,
): AsyncGenerator<Example> {
  const ri = new ByteReader(images);
  const rl = labels ? new ByteReader(labels.source) : null;
  try {
    const [n, rows, cols] = (await readIdxHeader(ri, 3, `"${file}"`)) as [number, number, number];
    if (rl) {
      const [nl] = await readIdxHeader(rl, 1, `"${labels!.file}"`);
      if (nl !== n) throw new InputError('CORRUPT_FILE', `${n} images but ${nl} labels in "${labels!.file}"`);
    }
    if (n === 0) throw new InputError('EMPTY_FILE', 'IDX file holds no images');
    ctx.lock.lockImage(rows, cols, 1);
    const shape = ctx.lock.shape as ImageShape;
    const size = rows * cols;
    for (let i = 0; i < n; i++) {
      const raw = await ri.read(size);
      if (raw.length < size) throw new InputError('CORRUPT_FILE', `file is truncated: header declares ${n} images, found ${i}`, { row: i });
      let label: string | null = null;
      if (rl) {
        const b = await rl.read(1);
        if (b.length < 1) throw new InputError('CORRUPT_FILE', `labels file "${labels!.file}" is truncated at ${i}`, { row: i });
        label = String(b[0]);
      }
      const pixels = await convertGrey(new Uint8Array(raw.buffer, raw.byteOffset, raw.length), cols, rows, shape);
      yield { modality: 'IMAGE', pixels, label, at: { file, row: i } };
    }
    if (!(await ri.atEnd())) throw new InputError('CORRUPT_FILE', `file has bytes after the ${n} images its header declares`);
  } finally {
    await ri.close();
    await rl?.close();
  }
}
