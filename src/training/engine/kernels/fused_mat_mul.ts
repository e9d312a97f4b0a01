// _FusedMatMul (matMul + bias + activation, used by dense layers) has the same slow transposed path on wasm as
// BatchMatMul; see ./batch_mat_mul.ts.
import { tf } from '../tf';
import { untransposedMatMul } from './batch_mat_mul';
import { rememberOriginal, type WasmKernelFunc } from './wasm_util';

export function makeFusedMatMulConfig(original: tf.KernelConfig): tf.KernelConfig {
  rememberOriginal('_FusedMatMul', original.kernelFunc as unknown as WasmKernelFunc);
  const kernelFunc: WasmKernelFunc = ({ inputs, backend, attrs }) => {
    const { transposeA, transposeB } = attrs as { transposeA?: boolean; transposeB?: boolean };
    return untransposedMatMul(backend, '_FusedMatMul', inputs, attrs, !!transposeA, !!transposeB);
  };
  return { ...original, kernelFunc: kernelFunc as unknown as tf.KernelFunc };
}
