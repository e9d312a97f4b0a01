// Small real models for the inference tests: tfjs-initialized weights (seeded), exported with exportOnnx, plus a
// WordPiece tokenizer trained on a few sentences for the text model.
import { buildModel } from '../../src/training/encoders';
import { assertModelSpec, defaultSpec, type ModelSpec } from '../../src/models/spec';
import { exportOnnx } from '../../src/models/onnx';
import { TextTokenizer } from '../../src/training/tokenizer';
import type { ModelArtifact } from '../../src/inference/service';

export const SENTENCES = [
  'the quick brown fox jumps over the lazy dog',
  'a stitch in time saves nine',
  'pack my box with five dozen liquor jugs',
  'how vexingly quick daft zebras jump',
  'the five boxing wizards jump quickly',
  'sphinx of black quartz judge my vow',
  'many hands make light work',
  'all that glitters is not gold',
];

export function exportModel(spec: ModelSpec, seed = 1, includeHead = false): Uint8Array {
  const model = buildModel(spec, { seed });
  try {
    return exportOnnx(spec, model.getWeights(), { includeHead });
  } finally {
    model.dispose();
  }
}

export async function textArtifact(id = 'text-v1', maxLength = 16): Promise<{ artifact: ModelArtifact; tokenizer: TextTokenizer; spec: ModelSpec }> {
  const tokenizer = await TextTokenizer.train(SENTENCES, { vocabSize: 96 });
  const spec = assertModelSpec({
    input: { kind: 'tokens', vocabSize: 128, maxLength },
    encoder: { kind: 'transformer', dModel: 16, numHeads: 2, numLayers: 1, ffDim: 32 },
    pooling: 'mean',
  });
  return { artifact: { modelVersionId: id, onnx: exportModel(spec, 3), tokenizerJson: tokenizer.toJSON() }, tokenizer, spec };
}

export function imageSpec(head = false): ModelSpec {
  const base = defaultSpec('image', 'cnn', { height: 8, width: 8, channels: 1, dim: 16 });
  return head ? assertModelSpec({ ...base, head: { kind: 'classifier', numClasses: 3 } }) : base;
}

export function imageArtifact(id = 'image-v1', head = false): ModelArtifact {
  return { modelVersionId: id, onnx: exportModel(imageSpec(head), 5, head), labels: head ? ['cat', 'dog', 'bird'] : undefined };
}

export function sequenceSpec(head = false): ModelSpec {
  const base = defaultSpec('sequence', 'sequence', { length: 6, features: 2, dim: 8 });
  return head ? assertModelSpec({ ...base, head: { kind: 'regressor', outputDim: 2 } }) : base;
}

export function sequenceArtifact(id = 'seq-v1', head = false): ModelArtifact {
  return { modelVersionId: id, onnx: exportModel(sequenceSpec(head), 7, head) };
}

/** Deterministic pseudo-random generator for inputs (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length mismatch ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
