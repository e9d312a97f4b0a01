/** Activations; GELU is exact: 0.5·x·(1 + Erf(x/√2)), matching layers/activations.ts. */
import type { Activation } from '../../spec';
import type { GraphBuilder } from '../graph';

export function activationOp(g: GraphBuilder, x: string, kind: Activation): string {
  switch (kind) {
    case 'relu':
      return g.op('Relu', [x]);
    case 'tanh':
      return g.op('Tanh', [x]);
    case 'sigmoid':
      return g.op('Sigmoid', [x]);
    case 'linear':
      return x;
    case 'gelu': {
      const half = g.op('Mul', [x, g.scalar(0.5)]);
      const erf = g.op('Erf', [g.op('Mul', [x, g.scalar(Math.SQRT1_2)])]);
      return g.op('Mul', [half, g.op('Add', [erf, g.scalar(1)])]);
    }
  }
}
