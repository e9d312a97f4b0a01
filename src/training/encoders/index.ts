/** Public surface of the tfjs encoders (see model.ts for usage). */
export { buildModel, PretextModel } from './model';
export { ParamStore, type NamedWeights, type NamedTensor } from './params';
export { makeRng, type Rng } from './init';
export type { ModelInputs, ModelOutputs, ApplyOptions } from './types';
