/**
 * Declarative, JSON-serializable model architecture specs, shared by training (tfjs, src/training/encoders) and
 * export (ONNX, src/models/onnx). A spec fixes every shape, so both sides build the same graph from it.
 *
 * Public API (stable):
 *   parseModelSpec(json: unknown): ParseResult           -- { ok: true, spec } | { ok: false, errors: string[] }
 *   assertModelSpec(json: unknown): ModelSpec             -- throws Error listing every problem
 *   defaultSpec(modality, encoderKind, shapeInfo): ModelSpec
 *   embeddingDim(spec): number                            -- width D of `embedding` [B, D]
 *   sequenceDim(spec): number | null                      -- width of `sequence` [B, T, D] (null for MLP)
 *   headOutputName(head): 'projection' | 'logits' | 'frames' | 'predictions'
 *   types: ModelSpec, InputSpec, EncoderSpec, HeadSpec, PoolingKind, ...
 *
 * Model = input → encoder → (sequence [B,T,D]) → pooling → pooled [B,D] → optional L2 normalize → embedding.
 * Heads read `pooled` (projection, classifier, regressor) or `sequence` (vocab, frames).
 *
 * Inputs (tfjs names / ONNX names):
 *   tokens:   inputIds int32 [B,T] / input_ids int64 [B,T]; attentionMask [B,T] / attention_mask int64 [B,T]
 *             (1 = real token, 0 = padding); T ≤ maxLength.
 *   image:    pixels float32 [B,H,W,C] raw 0..255 / pixels; scaled in-graph: (x/255 - mean[c]) / std[c].
 *   sequence: values float32 [B,T,F] / values; T = length.
 *             With `frontEnd` (audio): values are the raw waveform [B,S,1] (S = length samples at sampleRate) and the
 *             model's first step is the log-mel front end (src/models/logmel.ts), so the encoder reads [B,T',nMels]
 *             with T' = frameCount(S, frameLength, hop) — see sequenceFeatureShape().
 */
import { z } from 'zod';

const posInt = z.number().int().positive();
const nonNegInt = z.number().int().nonnegative();
const rate = z.number().min(0).max(0.95);

export const ACTIVATIONS = ['relu', 'gelu', 'tanh', 'sigmoid', 'linear'] as const;
export const activationSchema = z.enum(ACTIVATIONS);
export type Activation = z.infer<typeof activationSchema>;

export const tokensInputSchema = z
  .object({
    kind: z.literal('tokens'),
    vocabSize: posInt,
    maxLength: posInt,
    padId: nonNegInt.default(0),
    clsId: nonNegInt.default(1),
    maskId: nonNegInt.default(2),
  })
  .strict();

export const imageInputSchema = z
  .object({
    kind: z.literal('image'),
    height: posInt,
    width: posInt,
    channels: posInt,
    /** Per-channel mean/std applied after scaling raw pixels to 0..1. Length 1 (broadcast) or `channels`. */
    mean: z.array(z.number()).min(1).default([0]),
    std: z.array(z.number().positive()).min(1).default([1]),
  })
  .strict();

/**
 * Log-mel spectrogram front end for audio (one channel of samples): Hann-windowed frames of `frameLength` samples
 * every `hop` samples (no padding: T' = floor((S - frameLength) / hop) + 1) → |DFT|² (frameLength-point, bins
 * 0..frameLength/2) → `nMels` triangular HTK-mel filters over [fMin, fMax] → ln(x + eps) → normalization:
 * 'utterance' subtracts the clip's mean and divides by its std (one scalar pair over all frames and bins, so a
 * gain change does nothing), 'none' leaves the log energies. Same math in tfjs and in the exported ONNX graph.
 */
export const logmelFrontEndSchema = z
  .object({
    kind: z.literal('logmel'),
    nMels: posInt.max(256).default(40),
    /** Samples per frame (the DFT size); 400 = 25 ms at 16 kHz. */
    frameLength: z.number().int().min(16).max(2048).default(400),
    /** Samples between frame starts; 160 = 10 ms at 16 kHz. */
    hop: posInt.default(160),
    fMin: z.number().min(0).default(0),
    /** Default sampleRate / 2. */
    fMax: z.number().positive().optional(),
    eps: z.number().positive().default(1e-6),
    normalize: z.enum(['utterance', 'none']).default('utterance'),
  })
  .strict();
export type LogmelFrontEndSpec = z.infer<typeof logmelFrontEndSchema>;

export const sequenceInputSchema = z
  .object({
    kind: z.literal('sequence'),
    length: posInt,
    features: posInt,
    /** Audio: samples per second of `values` (required with frontEnd). */
    sampleRate: posInt.optional(),
    /** Audio: computed in-graph from the raw waveform (features must be 1). */
    frontEnd: logmelFrontEndSchema.optional(),
  })
  .strict();

export const inputSchema = z.discriminatedUnion('kind', [tokensInputSchema, imageInputSchema, sequenceInputSchema]);
export type TokensInputSpec = z.infer<typeof tokensInputSchema>;
export type ImageInputSpec = z.infer<typeof imageInputSchema>;
export type SequenceInputSpec = z.infer<typeof sequenceInputSchema>;
export type InputSpec = z.infer<typeof inputSchema>;

/** MLP over the flattened input (image, sequence) or over the mask-aware mean of token embeddings (tokens). */
export const mlpEncoderSchema = z
  .object({
    kind: z.literal('mlp'),
    hidden: z.array(posInt).min(1),
    activation: activationSchema.default('relu'),
    dropout: rate.default(0),
    /** Token embedding width (tokens input only). */
    embedDim: posInt.optional(),
  })
  .strict();

export const convBlockSchema = z
  .object({
    type: z.literal('conv'),
    filters: posInt,
    kernelSize: posInt,
    stride: posInt.default(1),
    padding: z.enum(['same', 'valid']).default('same'),
    batchNorm: z.boolean().default(true),
    activation: activationSchema.default('relu'),
  })
  .strict();

export const poolBlockSchema = z
  .object({
    type: z.literal('pool'),
    mode: z.enum(['max', 'avg']),
    size: posInt.default(2),
    stride: posInt.optional(),
  })
  .strict();

/** Two 'same' convs with batch norm; a 1x1 conv + BN shortcut when stride ≠ 1 or channels change (ResNet v1). */
export const residualBlockSchema = z
  .object({
    type: z.literal('residual'),
    filters: posInt,
    kernelSize: posInt.default(3),
    stride: posInt.default(1),
    activation: activationSchema.default('relu'),
  })
  .strict();

export const cnnBlockSchema = z.discriminatedUnion('type', [convBlockSchema, poolBlockSchema, residualBlockSchema]);
export type ConvBlockSpec = z.infer<typeof convBlockSchema>;
export type PoolBlockSpec = z.infer<typeof poolBlockSchema>;
export type ResidualBlockSpec = z.infer<typeof residualBlockSchema>;
export type CnnBlockSpec = z.infer<typeof cnnBlockSchema>;

export const cnnEncoderSchema = z
  .object({
    kind: z.literal('cnn'),
    blocks: z.array(cnnBlockSchema).min(1),
    batchNormEpsilon: z.number().positive().default(1e-3),
    batchNormMomentum: z.number().min(0).max(1).default(0.99),
  })
  .strict();

export const transformerEncoderSchema = z
  .object({
    kind: z.literal('transformer'),
    dModel: posInt,
    numHeads: posInt,
    numLayers: posInt,
    ffDim: posInt,
    activation: z.enum(['gelu', 'relu']).default('gelu'),
    /** 'pre': x + f(LN(x)) with a final LN; 'post': LN(x + f(x)). */
    norm: z.enum(['pre', 'post']).default('pre'),
    dropout: rate.default(0),
    layerNormEpsilon: z.number().positive().default(1e-5),
  })
  .strict();

export const conv1dLayerSchema = z
  .object({
    filters: posInt,
    kernelSize: posInt,
    dilation: posInt.default(1),
    /** 'causal' left-pads so step t sees only steps ≤ t; 'same' keeps length; 'valid' shrinks it. */
    padding: z.enum(['same', 'causal', 'valid']).default('causal'),
    activation: activationSchema.default('relu'),
  })
  .strict();
export type Conv1dLayerSpec = z.infer<typeof conv1dLayerSchema>;

export const sequenceEncoderSchema = z
  .object({
    kind: z.literal('sequence'),
    conv: z.array(conv1dLayerSchema).default([]),
    /** Unidirectional GRU (reset gate applied after the recurrent matmul, as ONNX linear_before_reset=1). */
    gru: z.object({ units: posInt }).strict().optional(),
    dropout: rate.default(0),
    /**
     * Tokens input only: width of the token embedding table (`encoder/embed/tokens`) that turns ids into the step
     * vectors (NEXT_STEP × TEXT: the causal language model's own table, kept with the encoder so it can be served).
     */
    embedDim: posInt.optional(),
  })
  .strict();

export const encoderSchema = z.discriminatedUnion('kind', [
  mlpEncoderSchema,
  cnnEncoderSchema,
  transformerEncoderSchema,
  sequenceEncoderSchema,
]);
export type MlpEncoderSpec = z.infer<typeof mlpEncoderSchema>;
export type CnnEncoderSpec = z.infer<typeof cnnEncoderSchema>;
export type TransformerEncoderSpec = z.infer<typeof transformerEncoderSchema>;
export type SequenceEncoderSpec = z.infer<typeof sequenceEncoderSchema>;
export type EncoderSpec = z.infer<typeof encoderSchema>;
export type EncoderKind = EncoderSpec['kind'];

/** mean: mask-aware for tokens; max: mask-aware for tokens; cls: first position; last: last position. */
export const POOLING_KINDS = ['mean', 'max', 'cls', 'last'] as const;
export const poolingSchema = z.enum(POOLING_KINDS);
export type PoolingKind = z.infer<typeof poolingSchema>;

export const projectionHeadSchema = z
  .object({
    kind: z.literal('projection'),
    /** Hidden widths (ReLU after each), then a linear layer to `outputDim`. */
    hidden: z.array(posInt).default([]),
    outputDim: posInt,
  })
  .strict();
export const vocabHeadSchema = z.object({ kind: z.literal('vocab') }).strict();
export const framesHeadSchema = z
  .object({
    kind: z.literal('frames'),
    /** Values per position to reconstruct; defaults to the input's features (sequence input). */
    outputDim: posInt.optional(),
  })
  .strict();
export const classifierHeadSchema = z
  .object({ kind: z.literal('classifier'), numClasses: z.number().int().min(2), hidden: z.array(posInt).default([]) })
  .strict();
export const regressorHeadSchema = z
  .object({ kind: z.literal('regressor'), outputDim: posInt.default(1), hidden: z.array(posInt).default([]) })
  .strict();
export const headSchema = z.discriminatedUnion('kind', [
  projectionHeadSchema,
  vocabHeadSchema,
  framesHeadSchema,
  classifierHeadSchema,
  regressorHeadSchema,
]);
export type ProjectionHeadSpec = z.infer<typeof projectionHeadSchema>;
export type VocabHeadSpec = z.infer<typeof vocabHeadSchema>;
export type FramesHeadSpec = z.infer<typeof framesHeadSchema>;
export type ClassifierHeadSpec = z.infer<typeof classifierHeadSchema>;
export type RegressorHeadSpec = z.infer<typeof regressorHeadSchema>;
export type HeadSpec = z.infer<typeof headSchema>;

export const modelSpecSchema = z
  .object({
    version: z.literal(1).default(1),
    input: inputSchema,
    encoder: encoderSchema,
    pooling: poolingSchema.default('mean'),
    /** L2-normalize the embedding (cosine similarity = dot product downstream). */
    normalize: z.boolean().default(false),
    head: headSchema.optional(),
  })
  .strict()
  .superRefine((spec, ctx) => {
    for (const problem of crossFieldProblems(spec as ModelSpecShape)) {
      ctx.addIssue({ code: 'custom', message: problem.message, path: problem.path });
    }
  });

type ModelSpecShape = {
  version: 1;
  input: InputSpec;
  encoder: EncoderSpec;
  pooling: PoolingKind;
  normalize: boolean;
  head?: HeadSpec;
};
export type ModelSpec = ModelSpecShape;
/** What callers may write: every defaulted field optional. */
export type ModelSpecInput = z.input<typeof modelSpecSchema>;

interface Problem {
  path: (string | number)[];
  message: string;
}

function crossFieldProblems(spec: ModelSpecShape): Problem[] {
  const out: Problem[] = [];
  const { input, encoder, pooling, head } = spec;
  if (input.kind === 'tokens') {
    for (const key of ['padId', 'clsId', 'maskId'] as const) {
      if (input[key] >= input.vocabSize) {
        out.push({ path: ['input', key], message: `${key} ${input[key]} must be < vocabSize ${input.vocabSize}` });
      }
    }
  }
  if (input.kind === 'image') {
    for (const key of ['mean', 'std'] as const) {
      const n = input[key].length;
      if (n !== 1 && n !== input.channels) {
        out.push({ path: ['input', key], message: `${key} must have 1 or ${input.channels} (channels) entries, got ${n}` });
      }
    }
  }
  if (input.kind === 'sequence' && input.frontEnd) {
    const fe = input.frontEnd;
    if (input.sampleRate === undefined) out.push({ path: ['input', 'sampleRate'], message: 'a logmel front end needs the sampleRate of the waveform' });
    if (input.features !== 1) out.push({ path: ['input', 'features'], message: `a logmel front end reads one channel of samples (features 1); got ${input.features}` });
    if (fe.frameLength > input.length) {
      out.push({ path: ['input', 'frontEnd', 'frameLength'], message: `frameLength ${fe.frameLength} is longer than the clip (${input.length} samples)` });
    }
    const nyquist = (input.sampleRate ?? Infinity) / 2;
    const fMax = fe.fMax ?? nyquist;
    if (fMax > nyquist) out.push({ path: ['input', 'frontEnd', 'fMax'], message: `fMax ${fMax} is above the Nyquist frequency ${nyquist}` });
    if (fe.fMin >= fMax) out.push({ path: ['input', 'frontEnd', 'fMin'], message: `fMin ${fe.fMin} must be below fMax ${fMax}` });
    if (fe.nMels > Math.floor(fe.frameLength / 2) + 1) {
      out.push({ path: ['input', 'frontEnd', 'nMels'], message: `nMels ${fe.nMels} exceeds the ${Math.floor(fe.frameLength / 2) + 1} DFT bins of a ${fe.frameLength}-sample frame` });
    }
  }
  const allowed: Record<EncoderKind, InputSpec['kind'][]> = {
    mlp: ['tokens', 'image', 'sequence'],
    cnn: ['image'],
    transformer: ['tokens'],
    sequence: ['sequence', 'tokens'],
  };
  if (!allowed[encoder.kind].includes(input.kind)) {
    out.push({
      path: ['encoder', 'kind'],
      message: `Unsupported encoder "${encoder.kind}" for ${input.kind} input. Should be one of: ${Object.entries(allowed)
        .filter(([, kinds]) => kinds.includes(input.kind))
        .map(([k]) => k)
        .join(', ')}.`,
    });
  }
  if (encoder.kind === 'mlp' && input.kind === 'tokens' && encoder.embedDim === undefined) {
    out.push({ path: ['encoder', 'embedDim'], message: 'an MLP over tokens needs embedDim (token embedding width)' });
  }
  if (encoder.kind === 'sequence' && input.kind === 'tokens') {
    if (encoder.embedDim === undefined) {
      out.push({ path: ['encoder', 'embedDim'], message: 'a sequence encoder over tokens needs embedDim (token embedding width)' });
    }
    // Right-padded text: only causal convs keep padding out of the real positions' states (and the mask aligned).
    encoder.conv.forEach((layer, i) => {
      if (layer.padding !== 'causal') {
        out.push({ path: ['encoder', 'conv', i, 'padding'], message: `a sequence encoder over tokens needs 'causal' convs (got '${layer.padding}'), so padding never reaches a real token` });
      }
    });
  }
  if (encoder.kind === 'sequence' && input.kind === 'sequence' && encoder.embedDim !== undefined) {
    out.push({ path: ['encoder', 'embedDim'], message: 'embedDim is for tokens input; a sequence input feeds its features directly' });
  }
  if (encoder.kind === 'transformer' && encoder.dModel % encoder.numHeads !== 0) {
    out.push({
      path: ['encoder', 'numHeads'],
      message: `dModel ${encoder.dModel} must be divisible by numHeads ${encoder.numHeads}`,
    });
  }
  if (encoder.kind === 'sequence' && encoder.conv.length === 0 && !encoder.gru) {
    out.push({ path: ['encoder'], message: 'a sequence encoder needs at least one conv layer or a gru' });
  }
  if (encoder.kind === 'cnn' && input.kind === 'image') {
    try {
      cnnOutputShape(input, encoder);
    } catch (e) {
      out.push({ path: ['encoder', 'blocks'], message: (e as Error).message });
    }
  }
  if (encoder.kind === 'sequence' && input.kind === 'sequence') {
    try {
      sequenceOutputLength(input, encoder);
    } catch (e) {
      out.push({ path: ['encoder', 'conv'], message: (e as Error).message });
    }
  }
  const validPooling = poolingChoices(encoder.kind, input.kind);
  if (!validPooling.includes(pooling)) {
    out.push({
      path: ['pooling'],
      message: `Unsupported pooling: "${pooling}" for a ${encoder.kind} encoder. Should be one of: ${validPooling.join(', ')}.`,
    });
  }
  if (head && (head.kind === 'vocab' || head.kind === 'frames')) {
    if (encoder.kind === 'mlp') {
      out.push({ path: ['head', 'kind'], message: `a ${head.kind} head needs a per-position encoder (not mlp)` });
    }
    if (head.kind === 'vocab' && input.kind !== 'tokens') {
      out.push({ path: ['head', 'kind'], message: 'a vocab head needs tokens input' });
    }
    if (head.kind === 'frames' && head.outputDim === undefined && input.kind !== 'sequence') {
      out.push({ path: ['head', 'outputDim'], message: 'a frames head over non-sequence input needs outputDim' });
    }
  }
  return out;
}

/** Pooling kinds that make sense for an encoder/input pair. */
export function poolingChoices(encoder: EncoderKind, input: InputSpec['kind']): PoolingKind[] {
  if (encoder === 'mlp') return ['mean'];
  if (encoder === 'transformer' && input === 'tokens') return ['mean', 'max', 'cls'];
  // Over right-padded tokens the last position is padding: only the mask-aware poolings apply.
  if (encoder === 'sequence') return input === 'tokens' ? ['mean', 'max'] : ['mean', 'max', 'last'];
  return ['mean', 'max'];
}

export type ParseResult = { ok: true; spec: ModelSpec } | { ok: false; errors: string[] };

/** Validates JSON (already parsed) into a typed spec with defaults filled in, or lists every problem. */
export function parseModelSpec(json: unknown): ParseResult {
  const result = modelSpecSchema.safeParse(json);
  if (result.success) return { ok: true, spec: result.data as ModelSpec };
  return {
    ok: false,
    errors: result.error.issues.map((issue) => `${issue.path.length ? issue.path.join('.') : '(root)'}: ${issue.message}`),
  };
}

export function assertModelSpec(json: unknown): ModelSpec {
  const result = parseModelSpec(json);
  if (!result.ok) throw new Error(`Invalid model spec:\n  - ${result.errors.join('\n  - ')}`);
  return result.spec;
}

// ---------------------------------------------------------------------------------------------------------------
// Static shape helpers (training and export both rely on them, so the two never disagree).

/** Output size of a 'same' (ceil(n/s)) or 'valid' (floor((n-k)/s)+1) window, TF semantics. */
export function windowOutput(n: number, k: number, s: number, padding: 'same' | 'valid'): number {
  return padding === 'same' ? Math.ceil(n / s) : Math.floor((n - k) / s) + 1;
}

/** TF 'same' padding split: total = max((out-1)*s + k - n, 0), the extra pixel goes at the end. */
export function samePads(n: number, k: number, s: number): [number, number] {
  const out = Math.ceil(n / s);
  const total = Math.max((out - 1) * s + k - n, 0);
  const before = Math.floor(total / 2);
  return [before, total - before];
}

/** [H, W, C] after every CNN block; throws when a block shrinks the map below 1 pixel. */
export function cnnOutputShape(input: ImageInputSpec, encoder: CnnEncoderSpec): [number, number, number] {
  let [h, w, c] = [input.height, input.width, input.channels];
  encoder.blocks.forEach((block, i) => {
    switch (block.type) {
      case 'conv':
        h = windowOutput(h, block.kernelSize, block.stride, block.padding);
        w = windowOutput(w, block.kernelSize, block.stride, block.padding);
        c = block.filters;
        break;
      case 'pool': {
        const s = block.stride ?? block.size;
        h = windowOutput(h, block.size, s, 'valid');
        w = windowOutput(w, block.size, s, 'valid');
        break;
      }
      case 'residual':
        h = windowOutput(h, block.kernelSize, block.stride, 'same');
        w = windowOutput(w, block.kernelSize, block.stride, 'same');
        c = block.filters;
        break;
    }
    if (h < 1 || w < 1) throw new Error(`block ${i} (${block.type}) shrinks the feature map below 1x1; use fewer or smaller blocks`);
  });
  return [h, w, c];
}

/** [left, right] time padding of a conv1d layer: causal = all (k-1)·d on the left, same = TF split, valid = none. */
export function conv1dPads(k: number, dilation: number, padding: 'same' | 'causal' | 'valid'): [number, number] {
  const total = (k - 1) * dilation;
  if (padding === 'causal') return [total, 0];
  if (padding === 'valid') return [0, 0];
  const left = Math.floor(total / 2);
  return [left, total - left];
}

/** Additive bias for masked positions (attention keys, max pooling); large but finite so softmax stays defined. */
export const MASK_NEGATIVE = -1e9;

/** Time steps left after the conv1d stack; throws when 'valid' convs consume the whole sequence. */
export function sequenceOutputLength(input: SequenceInputSpec, encoder: SequenceEncoderSpec): number {
  let t = sequenceFeatureShape(input).length;
  encoder.conv.forEach((layer, i) => {
    if (layer.padding === 'valid') t -= (layer.kernelSize - 1) * layer.dilation;
    if (t < 1) throw new Error(`conv layer ${i} ('valid') leaves no time steps; use 'causal' or 'same' padding`);
  });
  return t;
}

/**
 * Frames of the front end (audio): floor((samples − frameLength) / hop) + 1, the frames that fit wholly inside the
 * clip (no padding); 0 when the clip is shorter than one frame.
 */
export function frameCount(samples: number, frameLength: number, hop: number): number {
  return samples < frameLength ? 0 : Math.floor((samples - frameLength) / hop) + 1;
}

/** What the encoder reads from a sequence input: [length, features], or [frames, nMels] after a front end. */
export function sequenceFeatureShape(input: SequenceInputSpec): { length: number; features: number } {
  const fe = input.frontEnd;
  if (!fe) return { length: input.length, features: input.features };
  return { length: Math.max(1, frameCount(input.length, fe.frameLength, fe.hop)), features: fe.nMels };
}

/** Width of the per-position output `sequence` [B,T,D]; null for the MLP (no positions). */
export function sequenceDim(spec: ModelSpec): number | null {
  const { encoder, input } = spec;
  switch (encoder.kind) {
    case 'mlp':
      return null;
    case 'cnn':
      return input.kind === 'image' ? cnnOutputShape(input, encoder)[2] : null;
    case 'transformer':
      return encoder.dModel;
    case 'sequence':
      if (encoder.gru) return encoder.gru.units;
      if (encoder.conv.length) return encoder.conv[encoder.conv.length - 1].filters;
      return input.kind === 'sequence' ? sequenceFeatureShape(input).features : (encoder.embedDim ?? 0);
  }
}

/** Width D of the pooled representation and of `embedding` [B, D]. */
export function embeddingDim(spec: ModelSpec): number {
  if (spec.encoder.kind === 'mlp') return spec.encoder.hidden[spec.encoder.hidden.length - 1];
  return sequenceDim(spec) as number;
}

/** Output width of the head's last axis. */
export function headOutputDim(spec: ModelSpec, head: HeadSpec): number {
  switch (head.kind) {
    case 'projection':
      return head.outputDim;
    case 'vocab':
      return spec.input.kind === 'tokens' ? spec.input.vocabSize : 0;
    case 'frames':
      return head.outputDim ?? (spec.input.kind === 'sequence' ? sequenceFeatureShape(spec.input).features : 0);
    case 'classifier':
      return head.numClasses;
    case 'regressor':
      return head.outputDim;
  }
}

/** Graph output name of a head (ONNX output and key in tfjs outputs). */
export function headOutputName(head: HeadSpec): 'projection' | 'logits' | 'frames' | 'predictions' {
  switch (head.kind) {
    case 'projection':
      return 'projection';
    case 'vocab':
    case 'classifier':
      return 'logits';
    case 'frames':
      return 'frames';
    case 'regressor':
      return 'predictions';
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Presets.

export type Modality = 'text' | 'image' | 'sequence';
export interface ShapeInfo {
  /** text */
  vocabSize?: number;
  maxLength?: number;
  /** image */
  height?: number;
  width?: number;
  channels?: number;
  mean?: number[];
  std?: number[];
  /** sequence */
  length?: number;
  features?: number;
  /** Embedding width for the preset (default 128). */
  dim?: number;
}

const MODALITIES: Modality[] = ['text', 'image', 'sequence'];

function need(info: ShapeInfo, key: keyof ShapeInfo, modality: Modality): number {
  const v = info[key];
  if (typeof v !== 'number') throw new Error(`defaultSpec(${modality}) needs shapeInfo.${key}`);
  return v;
}

/** A small, sensible architecture for a modality and encoder family, validated before it is returned. */
export function defaultSpec(modality: Modality, encoderKind: EncoderKind, shapeInfo: ShapeInfo): ModelSpec {
  const dim = shapeInfo.dim ?? 128;
  let input: InputSpec;
  switch (modality) {
    case 'text':
      input = {
        kind: 'tokens',
        vocabSize: need(shapeInfo, 'vocabSize', modality),
        maxLength: shapeInfo.maxLength ?? 128,
        padId: 0,
        clsId: 1,
        maskId: 2,
      };
      break;
    case 'image': {
      const channels = shapeInfo.channels ?? 1;
      input = {
        kind: 'image',
        height: need(shapeInfo, 'height', modality),
        width: need(shapeInfo, 'width', modality),
        channels,
        mean: shapeInfo.mean ?? [0.5],
        std: shapeInfo.std ?? [0.5],
      };
      break;
    }
    case 'sequence':
      input = { kind: 'sequence', length: need(shapeInfo, 'length', modality), features: need(shapeInfo, 'features', modality) };
      break;
    default:
      throw new Error(`Unsupported modality: "${String(modality)}". Should be one of: ${MODALITIES.join(', ')}.`);
  }
  let encoder: unknown;
  let pooling: PoolingKind = 'mean';
  switch (encoderKind) {
    case 'mlp':
      encoder = { kind: 'mlp', hidden: [dim * 2, dim], ...(modality === 'text' ? { embedDim: dim } : {}) };
      break;
    case 'cnn': {
      const half = Math.max(8, dim / 4);
      encoder = {
        kind: 'cnn',
        blocks: [
          { type: 'conv', filters: half, kernelSize: 3 },
          { type: 'residual', filters: half },
          { type: 'residual', filters: dim / 2, stride: 2 },
          { type: 'residual', filters: dim, stride: 2 },
        ],
      };
      break;
    }
    case 'transformer':
      encoder = { kind: 'transformer', dModel: dim, numHeads: Math.max(1, Math.floor(dim / 32)), numLayers: 4, ffDim: dim * 4 };
      pooling = 'mean';
      break;
    case 'sequence':
      encoder = {
        kind: 'sequence',
        conv: [
          { filters: dim / 2, kernelSize: 5 },
          { filters: dim, kernelSize: 3, dilation: 2 },
        ],
        gru: { units: dim },
      };
      pooling = 'last';
      break;
    default:
      throw new Error(`Unsupported encoder kind: "${String(encoderKind)}". Should be one of: mlp, cnn, transformer, sequence.`);
  }
  return assertModelSpec({ input, encoder, pooling });
}
