/**
 * Pooling.
 *   spatialPoolOp: MaxPool/AveragePool on [B,C,H,W], 'valid' windows.
 *   sequencePoolOp: [B,T,D] (+ float mask [B,T] or null) → [B,D], same formulas as layers/pooling.ts:
 *     mean Σx·m / max(Σm, 1) · max over x + (1-m)·(-1e9) · cls x[:,0] · last x[:,-1]
 *   l2NormalizeOp: x / max(sqrt(Σx²), 1e-12) over the last axis.
 * Opset 17: ReduceSum takes axes as an input; ReduceMean/ReduceMax take them as an attribute.
 */
import type { GraphBuilder } from '../graph';
import { MASK_NEGATIVE, type PoolingKind } from '../../spec';

export function spatialPoolOp(g: GraphBuilder, x: string, mode: 'max' | 'avg', size: number, stride: number): string {
  return g.op(mode === 'max' ? 'MaxPool' : 'AveragePool', [x], {
    kernel_shape: { ints: [size, size] },
    strides: { ints: [stride, stride] },
  });
}

export function sequencePoolOp(g: GraphBuilder, x: string, mask: string | null, kind: PoolingKind): string {
  switch (kind) {
    case 'mean': {
      if (!mask) return g.op('ReduceMean', [x], { axes: { ints: [1] }, keepdims: { i: 0 } });
      const m = g.op('Unsqueeze', [mask, g.int64([-1])]);
      const total = g.op('ReduceSum', [g.op('Mul', [x, m]), g.int64([1])], { keepdims: { i: 0 } });
      const count = g.op('Max', [g.op('ReduceSum', [m, g.int64([1])], { keepdims: { i: 0 } }), g.scalar(1)]);
      return g.op('Div', [total, count]);
    }
    case 'max': {
      if (!mask) return g.op('ReduceMax', [x], { axes: { ints: [1] }, keepdims: { i: 0 } });
      const m = g.op('Unsqueeze', [mask, g.int64([-1])]);
      const penalty = g.op('Mul', [g.op('Sub', [g.scalar(1), m]), g.scalar(MASK_NEGATIVE)]);
      return g.op('ReduceMax', [g.op('Add', [x, penalty])], { axes: { ints: [1] }, keepdims: { i: 0 } });
    }
    case 'cls':
      return g.op('Gather', [x, g.int64([0], [])], { axis: { i: 1 } });
    case 'last':
      return g.op('Gather', [x, g.int64([-1], [])], { axis: { i: 1 } });
  }
}

export function l2NormalizeOp(g: GraphBuilder, x: string): string {
  const sumSq = g.op('ReduceSum', [g.op('Mul', [x, x]), g.int64([-1])], { keepdims: { i: 1 } });
  return g.op('Div', [x, g.op('Max', [g.op('Sqrt', [sumSq]), g.scalar(1e-12)])]);
}
