// Audio pretraining: WAV-clip rows (a shape with a sample rate) train the SEQUENCE recipes on the raw waveform with
// the log-mel front end inside the model; the exported graph takes the same raw clips and gives the same embedding.
import '../setup/realm';
import { tf } from '../../src/training/engine/tf';
import { train, type TrainConfig } from '../../src/training/trainer';
import type { RowShape, SequenceRow } from '../../src/ingest/types';
import { sequenceFeatureShape } from '../../src/models/spec';
import { exportOnnx } from '../../src/models/onnx';
import { loadSession } from '../../src/inference/onnx';

const RATE = 8000;
const S = 1600; // 0.2 s: 128-sample frames every 80 samples → 19 frames

/** Three "words": tones with different pitch contours, random gain, onset and a little noise. */
function clips(n: number): { rows: SequenceRow[]; shape: RowShape } {
  let seed = 3;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const rows: SequenceRow[] = [];
  for (let i = 0; i < n; i++) {
    const cls = i % 3;
    const gain = 0.2 + 0.6 * rnd();
    const onset = Math.floor(rnd() * 300);
    const values = new Float32Array(S);
    for (let j = onset; j < S; j++) {
      const t = (j - onset) / RATE;
      const f = [300, 900, 600 + 2000 * t][cls]!;
      values[j] = gain * Math.sin(2 * Math.PI * f * t) + 0.01 * (rnd() - 0.5);
    }
    rows.push({ modality: 'SEQUENCE', index: i, label: String(cls), split: 'train', values, length: S });
  }
  return { rows, shape: { modality: 'SEQUENCE', length: S, features: 1, sampleRate: RATE } };
}

const base = (pretext: TrainConfig['pretext'], shape: RowShape): TrainConfig => ({
  pretext, modality: 'SEQUENCE', shape, batchSize: 12, steps: 25, dim: 16, learningRate: 3e-3, warmupSteps: 0,
  overfitOneBatch: true, backend: 'wasm', seed: 5, resume: false,
});

describe('audio pretraining (log-mel front end in the model)', () => {
  test.each(['CONTRASTIVE', 'MASKED'] as const)('%s: loss falls, no standardization, ONNX embeds the raw clips like tfjs', async (pretext) => {
    const { rows, shape } = clips(24);
    const result = await train(base(pretext, shape), { data: rows });
    try {
      expect(result.finalLoss).toBeLessThan(0.9 * result.initialLoss);
      const input = result.spec.input;
      expect(input.kind === 'sequence' && input.frontEnd?.kind).toBe('logmel');
      if (input.kind !== 'sequence') throw new Error('unreachable');
      expect(input).toMatchObject({ length: S, features: 1, sampleRate: RATE, frontEnd: { frameLength: 128, hop: 80, nMels: 40 } });
      expect(sequenceFeatureShape(input)).toEqual({ length: 19, features: 40 });
      // The model reads the raw recording: nothing to standardize, so serving sends the waveform as it is.
      expect(result.normalization).toBeUndefined();

      const x = new Float32Array(4 * S);
      rows.slice(0, 4).forEach((r, i) => x.set(r.values, i * S));
      const want = tf.tidy(() => result.model.apply({ values: tf.tensor3d(x, [4, S, 1]) }, { head: false }).embedding.dataSync() as Float32Array);
      const session = await loadSession(exportOnnx(result.spec, result.model.getWeights()));
      try {
        const got = (await session.run({ values: { type: 'float32', data: x, dims: [4, S, 1] } })).embedding!.data as Float32Array;
        let d = 0;
        for (let i = 0; i < want.length; i++) d = Math.max(d, Math.abs(want[i]! - got[i]!));
        expect(d).toBeLessThan(1e-4);
      } finally {
        await session.dispose();
      }
    } finally {
      result.model.dispose();
      result.heads.dispose();
    }
  });

  test('NEXT_STEP refuses audio with a reason', async () => {
    const { rows, shape } = clips(6);
    await expect(train(base('NEXT_STEP', shape), { data: rows })).rejects.toThrow(/does not support audio datasets yet.*CONTRASTIVE or MASKED/);
  });
});
