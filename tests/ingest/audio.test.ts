// Audio clips: WAV files (alone or as `<label>/<file>.wav` in a tar / zip) become one SEQUENCE row each, mono, at the
// dataset's sample rate, padded / cropped to the declared length; hostile files fail with typed problems.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDatasetFromPath } from '../../src/ingest/load';
import { fitClip, parseWav } from '../../src/ingest/readers/wav-clip';
import { InputError } from '../../src/ingest/errors';
import type { Row, RowShape } from '../../src/ingest/types';
import { codes, fileOf, ingest, ingestFails, tarball, zip } from './helpers';

/** A WAV file with a chosen rate; `dataSize` overrides the "data" chunk's size field (a lying header). */
function wavBytes(opts: { rate?: number; format?: 'pcm16' | 'float32'; channels?: number; samples: number[]; dataSize?: number }): Buffer {
  const { rate = 8000, format = 'pcm16', channels = 1, samples } = opts;
  const bits = format === 'pcm16' ? 16 : 32;
  const data = Buffer.alloc(samples.length * (bits / 8));
  samples.forEach((v, i) => (format === 'pcm16' ? data.writeInt16LE(Math.max(-32768, Math.min(32767, Math.round(v * 32768))), i * 2) : data.writeFloatLE(v, i * 4)));
  const head = Buffer.alloc(44);
  head.write('RIFF', 0, 'latin1');
  head.writeUInt32LE(36 + data.length, 4);
  head.write('WAVE', 8, 'latin1');
  head.write('fmt ', 12, 'latin1');
  head.writeUInt32LE(16, 16);
  head.writeUInt16LE(format === 'pcm16' ? 1 : 3, 20);
  head.writeUInt16LE(channels, 22);
  head.writeUInt32LE(rate, 24);
  head.writeUInt32LE(rate * channels * (bits / 8), 28);
  head.writeUInt16LE(channels * (bits / 8), 32);
  head.writeUInt16LE(bits, 34);
  head.write('data', 36, 'latin1');
  head.writeUInt32LE(opts.dataSize ?? data.length, 40);
  return Buffer.concat([head, data]);
}

const AUDIO: RowShape = { modality: 'SEQUENCE', length: 6, features: 1, sampleRate: 8000 };
const seq = (r: Row) => (r.modality === 'SEQUENCE' ? Array.from(r.values) : []);

describe('WAV clips', () => {
  test('pad / crop rule: the first `length` samples, zeros appended to a short clip', async () => {
    expect(Array.from(fitClip(Float32Array.from([1, 2, 3]), 5))).toEqual([1, 2, 3, 0, 0]);
    expect(Array.from(fitClip(Float32Array.from([1, 2, 3, 4]), 2))).toEqual([1, 2]);
    const { rows, manifest } = await ingest([
      fileOf('clips.tar', await tarball([
        { name: 'yes/', type: 'directory' },
        { name: 'yes/a.wav', data: wavBytes({ samples: [0.5, -0.5, 0.25] }) },
        { name: 'no/b.wav', data: wavBytes({ samples: [0.125, 0.125, 0.125, 0.125, 0.125, 0.125, 0.5, 0.5] }) },
      ])),
    ], AUDIO);
    expect(rows.map((r) => r.label)).toEqual(['yes', 'no']);
    expect(seq(rows[0]!)).toEqual([0.5, -0.5, 0.25, 0, 0, 0]);
    expect(seq(rows[1]!)).toEqual([0.125, 0.125, 0.125, 0.125, 0.125, 0.125]);
    expect(manifest.shape).toEqual(AUDIO);
  });

  test('stereo is averaged to mono; float32 and a single .wav file; the sample rate comes from an archive when open', async () => {
    const stereo = wavBytes({ format: 'float32', channels: 2, samples: [0.5, 0.25, -1, 1, 0.75, 0.25] });
    const w = parseWav(stereo);
    expect({ rate: w.sampleRate, channels: w.channels, samples: Array.from(w.samples) }).toEqual({ rate: 8000, channels: 2, samples: [0.375, 0, 0.5] });
    const single = await ingest([fileOf('up/x.wav', stereo)], { modality: 'SEQUENCE', length: 4, features: 1, sampleRate: 8000 });
    expect(seq(single.rows[0]!)).toEqual([0.375, 0, 0.5, 0]);
    expect(single.rows[0]!.label).toBe('up');
    // An archive of WAVs in a SEQUENCE dataset declared without a rate: clips, and the first recording fixes it.
    const open = await ingest([fileOf('a.zip', zip([{ name: 'go/1.wav', data: wavBytes({ rate: 16000, samples: [0.5, 0.5] }) }]))], { modality: 'SEQUENCE', length: 3, features: 1 });
    expect(open.manifest.shape).toEqual({ modality: 'SEQUENCE', length: 3, features: 1, sampleRate: 16000 });
  });

  test('hostile files: truncated header, lying data size, NaN samples, wrong rate, non-WAV entry, 8-bit', async () => {
    const good = wavBytes({ samples: [0.1, 0.2, 0.3, 0.4] });
    const e = await ingestFails([
      fileOf('set.tar', await tarball([
        { name: 'a/truncated.wav', data: good.subarray(0, 30) },
        { name: 'a/lying.wav', data: wavBytes({ samples: [0.1, 0.2], dataSize: 4000 }) },
        { name: 'a/nan.wav', data: wavBytes({ format: 'float32', samples: [0.1, Number.NaN, 0.3] }) },
        { name: 'a/rate.wav', data: wavBytes({ rate: 44100, samples: [0.1] }) },
        { name: 'a/notes.txt', data: Buffer.from('hello') },
        { name: 'a/garbage.wav', data: Buffer.from('RIFX....WAVEjunk') },
        { name: 'a/empty.wav', data: wavBytes({ samples: [] }) },
      ])),
    ], AUDIO);
    const byEntry = Object.fromEntries(e.problems.map((p) => [p.entry, p.code]));
    expect(byEntry).toEqual({
      'a/truncated.wav': 'CORRUPT_AUDIO', 'a/lying.wav': 'CORRUPT_AUDIO', 'a/nan.wav': 'NON_FINITE', 'a/rate.wav': 'BAD_SHAPE',
      'a/notes.txt': 'WRONG_MODALITY', 'a/garbage.wav': 'CORRUPT_AUDIO', 'a/empty.wav': 'EMPTY_FILE',
    });
    expect(e.problems.find((p) => p.entry === 'a/rate.wav')!.message).toMatch(/44100 Hz; this dataset declares 8000 Hz/);
    expect(e.problems.find((p) => p.entry === 'a/lying.wav')!.message).toMatch(/declares 4000 bytes/);
    const eight = Buffer.from(good);
    eight.writeUInt16LE(8, 34);
    expect(() => parseWav(eight)).toThrow(InputError);
    expect(() => parseWav(eight)).toThrow(/Unsupported WAV encoding/);
    // A size field of 0 / 0xFFFFFFFF (streamed recording) means "to the end of the file".
    expect(parseWav(wavBytes({ samples: [0.5, 0.25], dataSize: 0xffffffff })).samples.length).toBe(2);
    expect(codes(await ingestFails([fileOf('x.wav', good)], { modality: 'SEQUENCE', length: 4, features: 1, sampleRate: 16000 }))).toEqual(['BAD_SHAPE']);
  });

  test('a benchmark folder of train.tar + test.tar loads locally with splits from the file names', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pretext-audio-'));
    try {
      const clip = (f: number) => wavBytes({ samples: Array.from({ length: 10 }, (_, i) => 0.5 * Math.sin(f * i)) });
      await writeFile(join(dir, 'train.tar'), await tarball([{ name: 'lo/1.wav', data: clip(0.1) }, { name: 'hi/1.wav', data: clip(1) }]));
      await writeFile(join(dir, 'test.tar'), await tarball([{ name: 'lo/2.wav', data: clip(0.12) }]));
      const loaded = await loadDatasetFromPath(dir, { modality: 'SEQUENCE', sequence: { length: 8, sampleRate: 0 } });
      const rows: Row[] = [];
      for await (const r of loaded.rows) rows.push(r);
      expect(loaded.shape).toEqual({ modality: 'SEQUENCE', length: 8, features: 1, sampleRate: 8000 });
      expect(rows.map((r) => `${r.split}:${r.label}`)).toEqual(['test:lo', 'train:lo', 'train:hi']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
