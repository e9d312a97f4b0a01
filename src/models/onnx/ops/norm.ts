/**
 * Normalization layers.
 *   batchNorm: inference-mode BatchNormalization on channels-first x [B,C,...] with the running statistics.
 *   layerNorm: LayerNormalization (opset 17) over the last axis.
 */
import type { ExportContext } from '../context';

export function batchNormOp({ g, w }: ExportContext, name: string, x: string, epsilon: number): string {
  const t = (part: string) => {
    const v = w.get(`${name}/${part}`);
    return g.float(`${name}/${part}`, v.data, v.shape);
  };
  return g.op('BatchNormalization', [x, t('gamma'), t('beta'), t('moving_mean'), t('moving_variance')], {
    epsilon: { f: epsilon },
  });
}

export function layerNormOp({ g, w }: ExportContext, name: string, x: string, epsilon: number): string {
  const gamma = w.get(`${name}/gamma`);
  const beta = w.get(`${name}/beta`);
  return g.op(
    'LayerNormalization',
    [x, g.float(`${name}/gamma`, gamma.data, gamma.shape), g.float(`${name}/beta`, beta.data, beta.shape)],
    { axis: { i: -1 }, epsilon: { f: epsilon } },
  );
}
