// .wav (RIFF/WAVE): PCM 16-bit or IEEE float 32-bit, any channel count (WAVE_FORMAT_EXTENSIBLE accepted).
// Frames become time steps and channels become features (time-major, interleaved as stored). With a declared
// sequence length L the recording is cut into consecutive windows of L frames (a short tail is dropped); with a
// variable length the whole file is one sequence. PCM16 is scaled to [-1, 1). As with images, a file uploaded as
// `<label>/<file>.wav` is labelled by its folder.
import { ByteReader } from '../bytes';
import { InputError } from '../errors';
import type { Example, ReadContext } from '../source';
import { firstNonFinite, nonFiniteError } from './common';
import { folderLabel } from './image';

interface WavFormat {
  float: boolean;
  bits: number;
  channels: number;
}

async function readFormat(r: ByteReader): Promise<{ fmt: WavFormat; dataBytes: number }> {
  const riff = await r.read(12);
  if (riff.length < 12 || riff.toString('latin1', 0, 4) !== 'RIFF' || riff.toString('latin1', 8, 12) !== 'WAVE') {
    throw new InputError('CORRUPT_FILE', 'not a RIFF/WAVE file');
  }
  let fmt: WavFormat | null = null;
  for (;;) {
    const head = await r.read(8);
    if (head.length < 8) throw new InputError('CORRUPT_FILE', 'no "data" chunk found');
    const id = head.toString('latin1', 0, 4);
    const size = head.readUInt32LE(4);
    if (id === 'fmt ') {
      if (size < 16 || size > 1024) throw new InputError('CORRUPT_FILE', `"fmt " chunk has an invalid size ${size}`);
      const body = await r.read(size + (size % 2));
      let tag = body.readUInt16LE(0);
      const channels = body.readUInt16LE(2);
      const bits = body.readUInt16LE(14);
      if (tag === 0xfffe && size >= 26) tag = body.readUInt16LE(24); // sub-format GUID starts with the real tag
      const float = tag === 3;
      if (!((tag === 1 && bits === 16) || (float && bits === 32))) {
        throw new InputError('UNSUPPORTED_FORMAT', `Unsupported WAV encoding: format ${tag}, ${bits}-bit. Should be one of: PCM 16-bit, IEEE float 32-bit.`);
      }
      if (channels < 1) throw new InputError('CORRUPT_FILE', 'WAV declares 0 channels');
      fmt = { float, bits, channels };
    } else if (id === 'data') {
      if (!fmt) throw new InputError('CORRUPT_FILE', '"data" chunk comes before "fmt "');
      return { fmt, dataBytes: size };
    } else {
      await r.skip(size + (size % 2));
    }
  }
}

export async function* readWav(source: AsyncIterable<Buffer>, file: string, ctx: ReadContext): AsyncGenerator<Example> {
  const r = new ByteReader(source);
  try {
    const { fmt, dataBytes } = await readFormat(r);
    const bad = ctx.lock.lockFeatures(fmt.channels);
    if (bad) throw new InputError('BAD_SHAPE', `audio with ${fmt.channels} channel(s) ${bad}`);
    const shape = ctx.lock.shape;
    const declared = shape.modality === 'SEQUENCE' ? shape.length : null;
    const frameBytes = (fmt.bits / 8) * fmt.channels;
    // Streams written without a known length put 0 or 0xFFFFFFFF here: read to the end then.
    const frames = dataBytes === 0 || dataBytes === 0xffffffff ? Infinity : Math.floor(dataBytes / frameBytes);
    const window = declared ?? Math.floor(ctx.limits.maxSequenceValues / fmt.channels);
    let done = 0;
    let row = 0;
    for (;;) {
      const want = Math.min(window, frames - done);
      if (want <= 0) break;
      const buf = await r.read(want * frameBytes);
      const got = Math.floor(buf.length / frameBytes);
      if (declared === null && got === window && frames - done - got > 0 && !(await r.atEnd())) {
        throw new InputError('TOO_LARGE', `recording has more than ${window} frames (limit maxSequenceValues); declare a sequence length to cut it into windows`);
      }
      if (got === 0 || (declared !== null && got < declared)) break; // short tail
      const values = new Float32Array(got * fmt.channels);
      for (let k = 0; k < values.length; k++) {
        values[k] = fmt.float ? buf.readFloatLE(k * 4) : buf.readInt16LE(k * 2) / 32768;
      }
      const at = { file, row };
      const nf = firstNonFinite(values);
      if (nf >= 0) {
        const e = nonFiniteError(values, nf, fmt.channels);
        ctx.problems.report(at, e.code, e.message);
      } else {
        yield { modality: 'SEQUENCE', values, length: got, label: folderLabel(file), at };
      }
      done += got;
      row += 1;
      if (got < want) break;
    }
    if (row === 0) throw new InputError('EMPTY_FILE', declared === null ? 'recording has no frames' : `recording is shorter than one window of ${declared} frames`);
  } finally {
    await r.close();
  }
}
