/**
 * Small ONNX graph builder shared by every op family: named inputs/outputs with symbolic dims, float32
 * initializers (weights), int64/float constants, nodes with typed attributes, and serialization to one
 * ModelProto (opset 17, IR 8) via onnx-proto.
 */
import { onnx } from 'onnx-proto';

export const OPSET = 17;
export const IR_VERSION = 8;

export type ElemType = 'float32' | 'int64';
export type Dim = number | string;

/** Attribute values are tagged so an integer-valued float (epsilon = 1) is never written as INT. */
export type AttrValue = { i: number } | { f: number } | { ints: number[] } | { floats: number[] } | { s: string };

const ELEM: Record<ElemType, onnx.TensorProto.DataType> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  int64: onnx.TensorProto.DataType.INT64,
};

function valueInfo(name: string, type: ElemType, dims: Dim[]): onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: ELEM[type],
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function attribute(name: string, value: AttrValue): onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if ('i' in value) return { name, type: T.INT, i: value.i };
  if ('f' in value) return { name, type: T.FLOAT, f: value.f };
  if ('ints' in value) return { name, type: T.INTS, ints: value.ints };
  if ('floats' in value) return { name, type: T.FLOATS, floats: value.floats };
  return { name, type: T.STRING, s: new TextEncoder().encode(value.s) };
}

function bytesOf(view: ArrayBufferView): Uint8Array {
  // ONNX raw_data is little-endian, as are the hosts Node runs on.
  return new Uint8Array(view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength));
}

export class GraphBuilder {
  private readonly nodes: onnx.INodeProto[] = [];
  private readonly initializers: onnx.ITensorProto[] = [];
  private readonly inputs: onnx.IValueInfoProto[] = [];
  private readonly outputs: onnx.IValueInfoProto[] = [];
  private readonly used = new Set<string>();
  private counter = 0;

  /** A fresh tensor name derived from `hint` (names must be unique in the graph). */
  name(hint: string): string {
    let candidate = hint;
    while (this.used.has(candidate)) candidate = `${hint}_${++this.counter}`;
    this.used.add(candidate);
    return candidate;
  }

  input(name: string, type: ElemType, dims: Dim[]): string {
    this.used.add(name);
    this.inputs.push(valueInfo(name, type, dims));
    return name;
  }

  /** Declares `value` as graph output `name` (through an Identity so any tensor can be exposed under any name). */
  output(name: string, value: string, type: ElemType, dims: Dim[]): void {
    this.used.add(name);
    this.nodes.push({ opType: 'Identity', input: [value], output: [name], name: `output_${name}` });
    this.outputs.push(valueInfo(name, type, dims));
  }

  /** A float32 initializer (weight); `hint` becomes its name, made unique. */
  float(hint: string, data: Float32Array | number[], dims: number[]): string {
    const name = this.name(hint);
    const values = data instanceof Float32Array ? data : Float32Array.from(data);
    const size = dims.reduce((a, b) => a * b, 1);
    if (values.length !== size) throw new Error(`Initializer ${name}: ${values.length} values for shape [${dims}]`);
    this.initializers.push({ name, dims, dataType: ELEM.float32, rawData: bytesOf(values) });
    return name;
  }

  /** A float32 scalar constant (rank 0). */
  scalar(value: number, hint = 'const'): string {
    return this.float(hint, [value], []);
  }

  /** An int64 constant: a 1-D list by default, or a scalar with dims []. */
  int64(values: number[], dims: number[] = [values.length], hint = 'const_i64'): string {
    const name = this.name(hint);
    const data = BigInt64Array.from(values.map((v) => BigInt(v)));
    this.initializers.push({ name, dims, dataType: ELEM.int64, rawData: bytesOf(data) });
    return name;
  }

  /** Adds a node and returns its output names (one unless `outputs` > 1). */
  node(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, outputs = 1): string[] {
    const outs = Array.from({ length: outputs }, () => this.name(`${opType.toLowerCase()}_out`));
    this.nodes.push({
      opType,
      input: inputs,
      output: outs,
      name: this.name(`${opType}_${this.nodes.length}`),
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    return outs;
  }

  /** Single-output shorthand for node(). */
  op(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}): string {
    return this.node(opType, inputs, attrs, 1)[0];
  }

  toBytes(opts: { graphName: string; metadata?: Record<string, string>; docString?: string }): Uint8Array {
    const model: onnx.IModelProto = {
      irVersion: IR_VERSION,
      opsetImport: [{ domain: '', version: OPSET }],
      producerName: 'pretext',
      producerVersion: '0.1.0',
      docString: opts.docString ?? '',
      graph: {
        name: opts.graphName,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
      metadataProps: Object.entries(opts.metadata ?? {}).map(([key, value]) => ({ key, value })),
    };
    return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
  }
}
