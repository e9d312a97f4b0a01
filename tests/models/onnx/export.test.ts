// Structure of the exported ModelProto (decoded with onnx-proto) and the exporter's error paths.
import { onnx } from 'onnx-proto';
import { buildModel } from '../../../src/training/encoders';
import { defaultSpec, assertModelSpec } from '../../../src/models/spec';
import { exportOnnx, IR_VERSION, OPSET, readModelMetadata } from '../../../src/models/onnx';
import { GraphBuilder } from '../../../src/models/onnx/graph';

function decode(bytes: Uint8Array) {
  return onnx.ModelProto.decode(bytes);
}

function dims(v: onnx.IValueInfoProto): (string | number)[] {
  return (v.type?.tensorType?.shape?.dim ?? []).map((d) => (d.dimParam ? d.dimParam : Number(d.dimValue)));
}

const textSpec = assertModelSpec({
  input: { kind: 'tokens', vocabSize: 12, maxLength: 6 },
  encoder: { kind: 'transformer', dModel: 4, numHeads: 2, numLayers: 1, ffDim: 8 },
  head: { kind: 'vocab' },
});

test('opset 17, IR 8, named inputs/outputs with a dynamic batch, weights as initializers, spec in metadata', () => {
  const model = buildModel(textSpec, { seed: 1 });
  const weights = model.getWeights();
  const proto = decode(exportOnnx(textSpec, weights, { includeHead: true }));
  expect(Number(proto.irVersion)).toBe(IR_VERSION);
  expect(IR_VERSION).toBe(8);
  expect(proto.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([['', OPSET]]);
  expect(OPSET).toBe(17);
  const graph = proto.graph as onnx.GraphProto;
  expect(graph.input.map((i) => i.name)).toEqual(['input_ids', 'attention_mask']);
  expect(graph.input.map((i) => i.type?.tensorType?.elemType)).toEqual([onnx.TensorProto.DataType.INT64, onnx.TensorProto.DataType.INT64]);
  expect(dims(graph.input[0])).toEqual(['batch', 'sequence']);
  expect(graph.output.map((o) => o.name)).toEqual(['embedding', 'logits']);
  expect(dims(graph.output[0])).toEqual(['batch', 4]);
  expect(dims(graph.output[1])).toEqual(['batch', 'sequence', 12]);
  // Every model weight (batch-norm-free model: all of them) is baked in exactly once under its own name.
  const initNames = new Set(graph.initializer.map((t) => t.name));
  for (const name of Object.keys(weights)) expect(initNames.has(name)).toBe(true);
  const kernel = graph.initializer.find((t) => t.name === 'encoder/layer0/ffn/in/kernel') as onnx.TensorProto;
  expect(kernel.dims.map(Number)).toEqual([4, 8]);
  expect(Array.from(new Float32Array(Uint8Array.from(kernel.rawData).buffer))).toEqual(Array.from(weights['encoder/layer0/ffn/in/kernel'].data));
  const meta = Object.fromEntries(proto.metadataProps.map((p) => [p.key, p.value]));
  expect(JSON.parse(meta['pretext.spec'])).toEqual(textSpec);
  expect(meta['pretext.outputs']).toBe('embedding,logits');
  model.dispose();
});

test('image and sequence graphs declare their inputs with static spatial/time dims', () => {
  for (const [spec, name, expected] of [
    [defaultSpec('image', 'cnn', { height: 8, width: 6, channels: 3, dim: 16 }), 'pixels', ['batch', 8, 6, 3]],
    [defaultSpec('sequence', 'sequence', { length: 9, features: 2, dim: 8 }), 'values', ['batch', 9, 2]],
  ] as const) {
    const model = buildModel(spec, { seed: 1 });
    const graph = decode(exportOnnx(spec, model.getWeights())).graph as onnx.GraphProto;
    expect(graph.input.map((i) => i.name)).toEqual([name]);
    expect(graph.input[0].type?.tensorType?.elemType).toBe(onnx.TensorProto.DataType.FLOAT);
    expect(dims(graph.input[0])).toEqual(expected);
    expect(graph.output.map((o) => o.name)).toEqual(['embedding']);
    model.dispose();
  }
});

test('the CNN graph carries batch-norm running statistics as initializers', () => {
  const spec = defaultSpec('image', 'cnn', { height: 8, width: 8, channels: 1, dim: 16 });
  const model = buildModel(spec, { seed: 1 });
  const graph = decode(exportOnnx(spec, model.getWeights())).graph as onnx.GraphProto;
  const names = graph.initializer.map((t) => t.name);
  expect(names).toContain('encoder/block0/bn/moving_mean');
  expect(names).toContain('encoder/block0/bn/moving_variance');
  expect(graph.node.filter((n) => n.opType === 'BatchNormalization').length).toBeGreaterThan(0);
  model.dispose();
});

test('errors: head requested without one, missing weight, wrong weight shape, invalid spec', () => {
  const spec = defaultSpec('sequence', 'mlp', { length: 4, features: 2, dim: 8 });
  const model = buildModel(spec, { seed: 1 });
  const weights = model.getWeights();
  expect(() => exportOnnx(spec, weights, { includeHead: true })).toThrow(/no head/);
  const missing = { ...weights };
  delete missing['encoder/dense0/kernel'];
  expect(() => exportOnnx(spec, missing)).toThrow(/Missing weight "encoder\/dense0\/kernel"/);
  const wrong = { ...weights, 'encoder/dense0/bias': { shape: [3], data: new Float32Array(3) } };
  expect(() => exportOnnx(spec, wrong)).toThrow(/encoder\/dense0\/bias.*\[3\].*\[16\]/);
  expect(() => exportOnnx({ ...spec, encoder: { kind: 'cnn', blocks: [] } }, weights)).toThrow(/Invalid model spec/);
  model.dispose();
});

test('readModelMetadata returns the spec and outputs; foreign models are refused', () => {
  const model = buildModel(textSpec, { seed: 2 });
  const meta = readModelMetadata(exportOnnx(textSpec, model.getWeights(), { includeHead: true }));
  expect(meta).toEqual({ spec: textSpec, outputs: ['embedding', 'logits'], opset: 17, irVersion: 8 });
  expect(readModelMetadata(exportOnnx(textSpec, model.getWeights())).outputs).toEqual(['embedding']);
  const g = new GraphBuilder();
  g.output('y', g.input('x', 'float32', [1]), 'float32', [1]);
  expect(() => readModelMetadata(g.toBytes({ graphName: 'foreign' }))).toThrow(/no "pretext.spec" metadata/);
  model.dispose();
});
