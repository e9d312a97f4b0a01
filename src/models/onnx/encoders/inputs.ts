/**
 * Graph inputs by input kind (dynamic batch `batch`; tokens also a dynamic `sequence` length):
 *   tokens:   input_ids int64 [batch, sequence], attention_mask int64 [batch, sequence]
 *   image:    pixels float32 [batch, H, W, C] (raw 0..255)
 *   sequence: values float32 [batch, T, F]
 */
import type { InputSpec } from '../../spec';
import type { GraphBuilder } from '../graph';

export interface GraphInputs {
  inputIds?: string;
  /** Float mask [B,T] derived from attention_mask (tokens only). */
  mask: string | null;
  pixels?: string;
  values?: string;
}

export function declareInputs(g: GraphBuilder, input: InputSpec): GraphInputs {
  switch (input.kind) {
    case 'tokens': {
      const inputIds = g.input('input_ids', 'int64', ['batch', 'sequence']);
      const attention = g.input('attention_mask', 'int64', ['batch', 'sequence']);
      return { inputIds, mask: g.op('Cast', [attention], { to: { i: 1 /* FLOAT */ } }) };
    }
    case 'image':
      return { pixels: g.input('pixels', 'float32', ['batch', input.height, input.width, input.channels]), mask: null };
    case 'sequence':
      return { values: g.input('values', 'float32', ['batch', input.length, input.features]), mask: null };
  }
}
