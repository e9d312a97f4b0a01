// Named weights as plain arrays: what the weights file (src/models/weights-file.ts) stores and the trainer's
// parameter store exports and imports. Pure data, so the gateway can read a weights file without the engine.
export interface NamedTensor {
  shape: number[];
  data: Float32Array;
}
export type NamedWeights = Record<string, NamedTensor>;
