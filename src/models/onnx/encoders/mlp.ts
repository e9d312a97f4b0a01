/** MLP encoder graph, as src/training/encoders/mlp.ts (flatten image/sequence, or masked mean of token embeddings). */
import type { InputSpec, MlpEncoderSpec } from '../../spec';
import type { ExportContext } from '../context';
import type { EncoderGraph } from './types';
import { denseOp } from '../ops/dense';
import { activationOp } from '../ops/activations';
import { embeddingOp } from '../ops/embedding';
import { sequencePoolOp } from '../ops/pooling';
import { scalePixelsOp } from '../ops/preprocess';
import type { GraphInputs } from './inputs';

export function mlpGraph(ctx: ExportContext, input: InputSpec, spec: MlpEncoderSpec, inputs: GraphInputs): EncoderGraph {
  const { g } = ctx;
  let x: string;
  switch (input.kind) {
    case 'tokens':
      x = sequencePoolOp(g, embeddingOp(ctx, 'encoder/embed/tokens', inputs.inputIds as string), inputs.mask, 'mean');
      break;
    case 'image':
      x = g.op('Reshape', [scalePixelsOp(g, inputs.pixels as string, input), g.int64([0, -1])]);
      break;
    case 'sequence':
      x = g.op('Reshape', [inputs.values as string, g.int64([0, -1])]);
      break;
  }
  spec.hidden.forEach((_, i) => {
    x = activationOp(g, denseOp(ctx, `encoder/dense${i}`, x), spec.activation);
  });
  return { mask: null, pooled: x };
}
