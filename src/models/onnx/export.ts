/**
 * ONNX export of a whole model: spec + named weights (from PretextModel.getWeights() or a checkpoint) → one
 * ModelProto (opset 17, IR 8, weights as initializers) holding preprocessing, encoder, pooling, optional L2
 * normalization and optional head.
 *
 *   exportOnnx(spec, weights, { includeHead?, normalize? }): Uint8Array
 *
 * Graph inputs (dynamic `batch`; tokens also dynamic `sequence` ≤ maxLength):
 *   tokens:   input_ids int64 [batch, sequence], attention_mask int64 [batch, sequence] (1 token / 0 padding)
 *   image:    pixels float32 [batch, H, W, C], raw 0..255 (scaled in-graph with the spec's mean/std)
 *   sequence: values float32 [batch, T, F]; with a front end (audio) the raw waveform [batch, S, 1], turned into
 *             log-mel frames in-graph (ops/logmel.ts)
 * Graph outputs:
 *   embedding float32 [batch, D]  (L2-normalized when normalize, default spec.normalize)
 *   with includeHead (default false) the head's output, named by headOutputName():
 *     projection [batch, P] | logits [batch, K] (classifier) | predictions [batch, R] (regressor)
 *     | logits [batch, sequence, V] (vocab) | frames [batch, T', F] (frames)
 * Metadata: `pretext.spec` (the spec JSON), `pretext.outputs` (comma-separated output names); read them back with
 * readModelMetadata (./metadata.ts).
 */
import { type ModelSpec, assertModelSpec, embeddingDim, headOutputDim, headOutputName } from '../spec';
import { type Dim, GraphBuilder } from './graph';
import { WeightReader, type WeightMap } from './weights';
import type { ExportContext } from './context';
import { declareInputs } from './encoders/inputs';
import type { EncoderGraph } from './encoders/types';
import { mlpGraph } from './encoders/mlp';
import { cnnGraph } from './encoders/cnn';
import { transformerGraph } from './encoders/transformer';
import { sequenceGraph } from './encoders/sequence';
import { headGraph } from './heads';
import { OUTPUTS_KEY, SPEC_KEY } from './metadata';
import { l2NormalizeOp, sequencePoolOp } from './ops/pooling';
import { logmelOp } from './ops/logmel';

export interface ExportOptions {
  /** Include the spec's head as an extra output (error if the spec has none). Default false. */
  includeHead?: boolean;
  /** L2-normalize `embedding`. Default: spec.normalize. */
  normalize?: boolean;
}

export function exportOnnx(specJson: ModelSpec | unknown, weights: WeightMap, opts: ExportOptions = {}): Uint8Array {
  const spec = assertModelSpec(specJson);
  const g = new GraphBuilder();
  const ctx: ExportContext = { g, w: new WeightReader(weights) };
  const inputs = declareInputs(g, spec.input);
  // Audio: the graph takes the raw waveform and computes the encoder's log-mel frames itself.
  if (spec.input.kind === 'sequence' && spec.input.frontEnd) inputs.values = logmelOp(g, inputs.values as string, spec.input);
  const encoded = encoderGraph(ctx, spec, inputs);
  const pooled = encoded.pooled ?? sequencePoolOp(g, encoded.sequence as string, encoded.mask, spec.pooling);
  const normalize = opts.normalize ?? spec.normalize;
  g.output('embedding', normalize ? l2NormalizeOp(g, pooled) : pooled, 'float32', ['batch', embeddingDim(spec)]);
  const outputs = ['embedding'];
  if (opts.includeHead) {
    const head = spec.head;
    if (!head) throw new Error('includeHead: the spec has no head; add one to the spec or export without includeHead');
    const perPosition = head.kind === 'vocab' || head.kind === 'frames';
    const name = headOutputName(head);
    const dims: Dim[] = perPosition ? ['batch', 'sequence', headOutputDim(spec, head)] : ['batch', headOutputDim(spec, head)];
    g.output(name, headGraph(ctx, head, perPosition ? (encoded.sequence as string) : pooled), 'float32', dims);
    outputs.push(name);
  }
  return g.toBytes({
    graphName: `pretext_${spec.encoder.kind}_${spec.input.kind}`,
    metadata: { [SPEC_KEY]: JSON.stringify(spec), [OUTPUTS_KEY]: outputs.join(',') },
  });
}

function encoderGraph(ctx: ExportContext, spec: ModelSpec, inputs: ReturnType<typeof declareInputs>): EncoderGraph {
  const { input, encoder } = spec;
  if (encoder.kind === 'mlp') return mlpGraph(ctx, input, encoder, inputs);
  if (encoder.kind === 'cnn' && input.kind === 'image') return cnnGraph(ctx, input, encoder, inputs);
  if (encoder.kind === 'transformer') return transformerGraph(ctx, encoder, inputs);
  if (encoder.kind === 'sequence') return sequenceGraph(ctx, encoder, inputs);
  throw new Error(`Unsupported encoder "${encoder.kind}" for ${input.kind} input`);
}
