// Helpers shared by the task files: host↔tensor conversion, batch stacking, spec builders, validation.
import { tf } from '../engine/tf';
import { assertModelSpec, cnnOutputShape, sequenceFeatureShape, type CnnEncoderSpec, type EncoderKind, type InputSpec, type ModelSpec } from '../../models/spec';
import type { PretextModel } from '../encoders/model';
import type { ModelInputs } from '../encoders/types';
import type { Example, HostBatch, HostTensor, ModelSizing, Pretext, TaskSetup } from './types';
import type { Modality } from '../../ingest/types';
import { defaultFrontEnd } from '../../models/logmel';

export function host(data: Float32Array | Int32Array, shape: number[]): HostTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  if (data.length !== n) throw new Error(`Host tensor has ${data.length} values but shape [${shape}] needs ${n}.`);
  return { data, shape, dtype: data instanceof Int32Array ? 'int32' : 'float32' };
}

export function toTensor(t: HostTensor | undefined, name: string): tf.Tensor {
  if (!t) throw new Error(`Batch lacks "${name}"; it was not prepared by this task.`);
  return tf.tensor(t.data, t.shape, t.dtype);
}

export function stack(parts: readonly (Float32Array | Int32Array)[], inner: number[], int = false): HostTensor {
  const size = inner.reduce((a, b) => a * b, 1);
  const out = int ? new Int32Array(parts.length * size) : new Float32Array(parts.length * size);
  parts.forEach((p, i) => out.set(p, i * size));
  return host(out, [parts.length, ...inner]);
}

export function ensureKind<K extends Example['kind']>(examples: readonly Example[], kind: K): Extract<Example, { kind: K }>[] {
  if (examples.length === 0) throw new Error('Cannot build a batch from zero examples: the dataset (or its train split) is empty.');
  for (const e of examples) {
    if (e.kind !== kind) throw new Error(`This task trains on ${kind} examples but got a ${e.kind} example.`);
  }
  return examples as Extract<Example, { kind: K }>[];
}

export function checkRatio(name: string, value: number, hint: string): number {
  if (!(value > 0 && value < 1)) throw new Error(`${name} must be in (0, 1); got ${value}. ${hint}`);
  return value;
}

export function checkTemperature(value: number): number {
  if (!(value > 0) || !Number.isFinite(value)) throw new Error(`temperature must be a finite number > 0; got ${value}. Use e.g. 0.1–0.5.`);
  return value;
}

/** Model inputs from a host batch: the keys a batch may carry under the model's input names. */
export function modelInputs(batch: HostBatch, prefix = ''): ModelInputs {
  const out: ModelInputs = {};
  const get = (k: string) => batch[prefix + k];
  if (get('inputIds')) out.inputIds = toTensor(get('inputIds'), 'inputIds') as tf.Tensor2D;
  if (get('attentionMask')) out.attentionMask = toTensor(get('attentionMask'), 'attentionMask') as tf.Tensor2D;
  if (get('pixels')) out.pixels = toTensor(get('pixels'), 'pixels') as tf.Tensor4D;
  if (get('values')) out.values = toTensor(get('values'), 'values') as tf.Tensor3D;
  return out;
}

export function requireSequence(model: PretextModel, out: { sequence?: tf.Tensor3D }, task: string): tf.Tensor3D {
  if (!out.sequence) {
    throw new Error(`${task} needs a per-position encoder output, but a "${model.spec.encoder.kind}" encoder has none. Choose a transformer, cnn or sequence encoder.`);
  }
  return out.sequence;
}

export function tokensInput(setup: Omit<TaskSetup, 'spec'>): InputSpec {
  const tok = setup.tokenizer;
  if (!tok) throw new Error('A TEXT task needs a tokenizer (train one with TextTokenizer.train on the text rows).');
  return { kind: 'tokens', vocabSize: tok.vocabSize, maxLength: setup.maxLength ?? 64, padId: tok.padId, clsId: tok.clsId, maskId: tok.maskId };
}

export function imageInput(setup: Omit<TaskSetup, 'spec'>): InputSpec {
  const s = setup.shape;
  if (s.modality !== 'IMAGE') throw new Error(`Expected an IMAGE dataset shape; got ${s.modality}.`);
  // Pixels are fed raw (0..255); the model maps them to (x/255 − 0.5)/0.5.
  return { kind: 'image', height: s.height, width: s.width, channels: s.channels, mean: [0.5], std: [0.5] };
}

export function sequenceInput(setup: Omit<TaskSetup, 'spec'>): InputSpec {
  const s = setup.shape;
  if (s.modality !== 'SEQUENCE') throw new Error(`Expected a SEQUENCE dataset shape; got ${s.modality}.`);
  const length = setup.sequenceLength ?? s.length;
  if (!length) throw new Error('A variable-length SEQUENCE dataset needs sequenceLength (examples are padded or cut to it).');
  // Audio (the shape has a sample rate): the model takes the raw waveform and computes log-mel frames in-graph.
  if (s.sampleRate) return { kind: 'sequence', length, features: s.features, sampleRate: s.sampleRate, frontEnd: defaultFrontEnd(s.sampleRate) };
  return { kind: 'sequence', length, features: s.features };
}

/** Image rows as a sequence: T = height, F = width·channels. */
export function rowsInput(setup: Omit<TaskSetup, 'spec'>): InputSpec {
  const s = setup.shape;
  if (s.modality !== 'IMAGE') throw new Error(`Expected an IMAGE dataset shape; got ${s.modality}.`);
  return { kind: 'sequence', length: s.height, features: s.width * s.channels };
}

/**
 * A small encoder of `kind` for `input`. `perPosition` asks for a non-causal sequence encoder ('same' convs, no GRU,
 * for masked frames); `causal` for a causal one (causal convs + GRU, for next-step prediction).
 * `spatialEmbedding` (cnn, and non-causal sequence encoders): a narrower trunk, then one 'valid' conv of width `dim`
 * spanning the trunk's whole output map, so the pooled embedding is a dense layer over the flattened map (it keeps
 * position information that mean pooling throws away).
 */
export function buildSpec(
  input: InputSpec, kind: EncoderKind, sizing: ModelSizing, mode: 'pooled' | 'bidirectional' | 'causal',
  options: { spatialEmbedding?: boolean } = {},
): ModelSpec {
  const d = sizing.dim;
  const spatial = options.spatialEmbedding ?? false;
  let encoder: unknown;
  let pooling = 'mean';
  switch (kind) {
    case 'mlp':
      encoder = { kind: 'mlp', hidden: [2 * d, d], ...(input.kind === 'tokens' ? { embedDim: d } : {}) };
      break;
    case 'cnn': {
      if (spatial && input.kind === 'image') {
        const c = Math.max(8, Math.round(d / 4));
        const trunk: CnnEncoderSpec = {
          kind: 'cnn',
          blocks: [
            { type: 'conv', filters: Math.max(8, Math.round(d / 8)), kernelSize: 3, stride: 1, padding: 'same', batchNorm: false, activation: 'relu' },
            { type: 'conv', filters: c, kernelSize: 3, stride: 2, padding: 'same', batchNorm: false, activation: 'relu' },
            { type: 'conv', filters: c, kernelSize: 3, stride: 2, padding: 'same', batchNorm: false, activation: 'relu' },
          ],
          batchNormEpsilon: 1e-3,
          batchNormMomentum: 0.99,
        };
        const [h, w] = cnnOutputShape(input, trunk);
        encoder = { ...trunk, blocks: [...trunk.blocks, { type: 'conv', filters: d, kernelSize: Math.min(h, w), padding: 'valid', batchNorm: false }] };
        break;
      }
      encoder = {
        kind: 'cnn',
        blocks: [
          { type: 'conv', filters: Math.max(8, d / 2), kernelSize: 3, batchNorm: false },
          { type: 'conv', filters: d, kernelSize: 3, stride: 2, batchNorm: false },
          { type: 'conv', filters: d, kernelSize: 3, stride: 2, batchNorm: false },
        ],
      };
      break;
    }
    case 'transformer':
      encoder = { kind: 'transformer', dModel: d, numHeads: Math.max(1, Math.floor(d / 32)), numLayers: sizing.layers, ffDim: 2 * d, norm: 'pre' };
      break;
    case 'sequence':
      if (mode === 'causal') {
        encoder = { kind: 'sequence', conv: [{ filters: d, kernelSize: 3, padding: 'causal' }], gru: { units: d } };
        pooling = 'last';
      } else if (spatial && input.kind === 'sequence') {
        const c = Math.max(8, Math.round(d / 2));
        encoder = {
          kind: 'sequence',
          conv: [
            { filters: c, kernelSize: 5, padding: 'same' },
            { filters: c, kernelSize: 3, dilation: 2, padding: 'same' },
            { filters: d, kernelSize: sequenceFeatureShape(input).length, padding: 'valid' },
          ],
        };
      } else {
        encoder = {
          kind: 'sequence',
          conv: [
            { filters: d, kernelSize: 5, padding: 'same' },
            { filters: d, kernelSize: 3, dilation: 2, padding: 'same' },
          ],
        };
      }
      break;
  }
  return assertModelSpec({ input, encoder, pooling });
}

export function unsupportedEncoder(pretext: Pretext, modality: Modality, kind: string, valid: readonly string[]): Error {
  return new Error(`Unsupported encoder: "${kind}" for ${pretext} × ${modality}. Should be one of: ${valid.join(', ')}.`);
}
