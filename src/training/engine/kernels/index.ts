// Registers every wasm kernel patch of the training engine. Call before `tf.setBackend('wasm')` (initBackend
// does): tfjs runs kernel setup functions when a backend initialises, and the wrapped kernels keep the
// originals' setup.
//
// Added (wasm has none): Conv2DBackpropFilter, UnsortedSegmentSum, DepthwiseConv2dNativeBackpropInput/Filter.
// Replaced (wasm's is a scalar or copying path that dominated a training step): Conv2DBackpropInput,
// MaxPoolGrad, BatchMatMul / _FusedMatMul (transpose flags, batched products), Transpose, Sum / Mean over
// leading axes, Tanh, Exp, Sqrt, Identity / Cast, Add / Sub / Multiply / RealDiv with a per-row operand, GatherV2
// along axis 0 (embedding lookups). Each file says what it replaces and why.
import { tf } from '../tf';
import { makeBatchMatMulConfig } from './batch_mat_mul';
import { conv2dBackpropFilterConfig } from './conv2d_backprop_filter';
import { conv2dBackpropInputConfig } from './conv2d_backprop_input';
import { depthwiseConv2dBackpropFilterConfig } from './depthwise_conv2d_backprop_filter';
import { depthwiseConv2dBackpropInputConfig } from './depthwise_conv2d_backprop_input';
import { makeExpConfig } from './exp';
import { makeFusedMatMulConfig } from './fused_mat_mul';
import { makeGatherConfig } from './gather';
import { makeCastConfig, makeIdentityConfig } from './identity';
import { maxPoolGradConfig } from './max_pool_grad';
import { makeOuterReduceConfig } from './reduce_outer';
import { makeRowBroadcastConfig, ROW_BROADCAST_KERNELS } from './row_broadcast';
import { makeSqrtConfig } from './sqrt';
import { makeTanhConfig } from './tanh';
import { makeTransposeConfig } from './transpose';
import { unsortedSegmentSumConfig } from './unsorted_segment_sum';

let registered: string[] | null = null;

/** Kernel names (for backend 'wasm') this module adds or replaces. */
export function registerWasmKernels(): string[] {
  if (registered) return registered;
  // Importing the package registers the 'wasm' backend and its own kernels, which the wrappers build on.
  require('@tensorflow/tfjs-backend-wasm');
  const added = [
    conv2dBackpropFilterConfig,
    unsortedSegmentSumConfig,
    depthwiseConv2dBackpropFilterConfig,
    depthwiseConv2dBackpropInputConfig,
    conv2dBackpropInputConfig,
    maxPoolGradConfig,
  ];
  const wrapped: Array<[string, (original: tf.KernelConfig) => tf.KernelConfig]> = [
    ['BatchMatMul', makeBatchMatMulConfig],
    ['_FusedMatMul', makeFusedMatMulConfig],
    ['Transpose', makeTransposeConfig],
    ['Sum', (original) => makeOuterReduceConfig(original, false)],
    ['Mean', (original) => makeOuterReduceConfig(original, true)],
    ['Tanh', makeTanhConfig],
    ['Exp', makeExpConfig],
    ['Identity', makeIdentityConfig],
    ['Cast', makeCastConfig],
    ['Sqrt', makeSqrtConfig],
    ['GatherV2', makeGatherConfig],
    ...ROW_BROADCAST_KERNELS.map((name): [string, (original: tf.KernelConfig) => tf.KernelConfig] => [name, makeRowBroadcastConfig]),
  ];
  const names: string[] = [];
  for (const config of added) {
    if (tf.getKernel(config.kernelName, 'wasm')) tf.unregisterKernel(config.kernelName, 'wasm');
    tf.registerKernel(config);
    names.push(config.kernelName);
  }
  for (const [name, make] of wrapped) {
    const original = tf.getKernel(name, 'wasm');
    if (!original) throw new Error(`tfjs-backend-wasm has no "${name}" kernel to wrap; check its version (4.22 expected).`);
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel(make(original));
    names.push(name);
  }
  registered = names;
  return names;
}
