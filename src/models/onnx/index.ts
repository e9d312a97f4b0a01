/** ONNX exporter public surface. */
export { exportOnnx, type ExportOptions } from './export';
export { GraphBuilder, OPSET, IR_VERSION } from './graph';
export type { WeightMap, NamedTensor } from './weights';
export { readModelMetadata, type ModelMetadata } from './metadata';
