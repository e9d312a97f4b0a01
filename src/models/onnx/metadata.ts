/**
 * Reads back what exportOnnx records in the model's metadata_props, so a runtime holding only the ONNX bytes
 * knows the input spec (tokenizer limits, image size, normalization) and the outputs it can ask for.
 *
 *   readModelMetadata(bytes): { spec: ModelSpec; outputs: string[]; opset: number; irVersion: number }
 */
import { onnx } from 'onnx-proto';
import { type ModelSpec, assertModelSpec } from '../spec';

export const SPEC_KEY = 'pretext.spec';
export const OUTPUTS_KEY = 'pretext.outputs';

export interface ModelMetadata {
  spec: ModelSpec;
  outputs: string[];
  opset: number;
  irVersion: number;
}

export function readModelMetadata(bytes: Uint8Array): ModelMetadata {
  const proto = onnx.ModelProto.decode(bytes);
  const props = Object.fromEntries(proto.metadataProps.map((p) => [p.key, p.value]));
  const specJson = props[SPEC_KEY];
  if (!specJson) throw new Error(`ONNX model has no "${SPEC_KEY}" metadata; was it exported by pretext's exportOnnx?`);
  const opset = proto.opsetImport.find((o) => !o.domain)?.version ?? 0;
  return {
    spec: assertModelSpec(JSON.parse(specJson)),
    outputs: (props[OUTPUTS_KEY] ?? 'embedding').split(',').filter(Boolean),
    opset: Number(opset),
    irVersion: Number(proto.irVersion),
  };
}
