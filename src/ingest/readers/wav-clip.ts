// Audio clips: one .wav file (alone, or an entry `<label>/<file>.wav` of a .tar / .zip) = one row of a SEQUENCE
// dataset whose shape has a `sampleRate`. Accepted: RIFF/WAVE PCM 16-bit or IEEE float 32-bit (WAVE_FORMAT_EXTENSIBLE
// too), any channel count. Stereo (or more) is averaged to mono; PCM16 is scaled to [-1, 1) (x / 32768).
//
// Sample rate: there is no resampling. A file recorded at another rate than the dataset's is rejected (BAD_SHAPE,
// with the sox command that fixes it); when the shape's rate is open (0, local loading) the first file fixes it.
//
// Pad / crop rule (the same one training, fine-tuning and serving apply to every sequence): a clip keeps its FIRST
// `length` samples; a shorter clip is padded with zeros (silence) at the END. With a variable length (null) the
// whole recording is one row (up to maxSequenceValues samples).
//
// Typed failures (InputError, reported with the file / entry; one bad clip never hides the archive's others):
// CORRUPT_AUDIO for a missing or truncated RIFF/fmt
// header, a "data" chunk that declares more bytes than the file holds, or no "data" chunk; UNSUPPORTED_FORMAT for
// other encodings; NON_FINITE for NaN / ±Infinity float samples; EMPTY_FILE for a recording with no samples.
import { InputError } from '../errors';
import type { Example, ReadContext } from '../source';
import { folderLabel } from './image';

export interface WavAudio {
  sampleRate: number;
  channels: number;
  /** Mono samples (channels averaged), in [-1, 1] for PCM16. */
  samples: Float32Array;
}

const NEED = (cond: boolean, message: string) => {
  if (!cond) throw new InputError('CORRUPT_AUDIO', message);
};

/** Parses a whole WAV file held in memory. */
export function parseWav(bytes: Uint8Array, maxSamples = Infinity): WavAudio {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  NEED(buf.length >= 12 && buf.toString('latin1', 0, 4) === 'RIFF' && buf.toString('latin1', 8, 12) === 'WAVE', 'not a RIFF/WAVE file (header missing or truncated)');
  let pos = 12;
  let fmt: { float: boolean; bits: number; channels: number; sampleRate: number } | null = null;
  for (;;) {
    NEED(pos + 8 <= buf.length, fmt ? 'no "data" chunk found (file truncated?)' : 'no "fmt " chunk found (file truncated?)');
    const id = buf.toString('latin1', pos, pos + 4);
    const size = buf.readUInt32LE(pos + 4);
    const body = pos + 8;
    if (id === 'fmt ') {
      NEED(size >= 16 && size <= 1024, `"fmt " chunk has an invalid size ${size}`);
      NEED(body + size <= buf.length, `"fmt " chunk is truncated (declares ${size} bytes, ${buf.length - body} present)`);
      let tag = buf.readUInt16LE(body);
      const channels = buf.readUInt16LE(body + 2);
      const sampleRate = buf.readUInt32LE(body + 4);
      const bits = buf.readUInt16LE(body + 14);
      if (tag === 0xfffe && size >= 26) tag = buf.readUInt16LE(body + 24); // the sub-format GUID starts with the real tag
      const float = tag === 3;
      if (!((tag === 1 && bits === 16) || (float && bits === 32))) {
        throw new InputError('UNSUPPORTED_FORMAT', `Unsupported WAV encoding: format ${tag}, ${bits}-bit. Should be one of: PCM 16-bit, IEEE float 32-bit.`);
      }
      NEED(channels >= 1, 'WAV declares 0 channels');
      NEED(sampleRate >= 1, 'WAV declares a sample rate of 0');
      fmt = { float, bits, channels, sampleRate };
    } else if (id === 'data') {
      NEED(fmt !== null, '"data" chunk comes before "fmt "');
      const f = fmt!;
      const frameBytes = (f.bits / 8) * f.channels;
      const present = buf.length - body;
      // Streams written without a known length put 0 or 0xFFFFFFFF here: the data runs to the end of the file then.
      const open = size === 0 || size === 0xffffffff;
      if (!open && size > present) {
        throw new InputError('CORRUPT_AUDIO', `"data" chunk declares ${size} bytes but the file holds ${present} after its header (truncated file or a wrong size field)`);
      }
      const frames = Math.floor((open ? present : size) / frameBytes);
      if (frames > maxSamples) throw new InputError('TOO_LARGE', `recording has ${frames} samples; the limit is ${maxSamples} (limit maxSequenceValues)`);
      const samples = new Float32Array(frames);
      for (let t = 0; t < frames; t++) {
        let s = 0;
        for (let c = 0; c < f.channels; c++) {
          const at = body + (t * f.channels + c) * (f.bits / 8);
          const v = f.float ? buf.readFloatLE(at) : buf.readInt16LE(at) / 32768;
          if (!Number.isFinite(v)) throw new InputError('NON_FINITE', `sample ${t} (channel ${c}) is ${v} (NaN and ±Infinity are not allowed)`);
          s += v;
        }
        samples[t] = s / f.channels;
      }
      return { sampleRate: f.sampleRate, channels: f.channels, samples };
    }
    pos = body + size + (size % 2);
  }
}

/** The pad / crop rule: the first `length` samples, zero-padded at the end. */
export function fitClip(samples: Float32Array, length: number): Float32Array {
  if (samples.length === length) return samples;
  const out = new Float32Array(length);
  out.set(samples.subarray(0, Math.min(length, samples.length)));
  return out;
}

/** One clip row from a WAV file's bytes, checked against (or fixing) the dataset's sample rate. */
export function wavClipExample(bytes: Uint8Array, name: string, at: Example['at'], ctx: ReadContext): Example {
  const shape = ctx.lock.shape;
  if (shape.modality !== 'SEQUENCE') throw new InputError('WRONG_MODALITY', `"${name}" is audio; audio clips go into a SEQUENCE dataset`);
  const wav = parseWav(bytes, ctx.limits.maxSequenceValues);
  if (wav.samples.length === 0) throw new InputError('EMPTY_FILE', 'recording has no samples');
  const bad = ctx.lock.lockSampleRate(wav.sampleRate) ?? ctx.lock.lockFeatures(1);
  if (bad) throw new InputError('BAD_SHAPE', `audio ${bad}`);
  const length = shape.length ?? wav.samples.length;
  return { modality: 'SEQUENCE', values: fitClip(wav.samples, length), length, label: folderLabel(name), at };
}
