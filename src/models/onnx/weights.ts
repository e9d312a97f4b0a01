/**
 * Read access to the tfjs model's NamedWeights for the exporter: every lookup checks presence and shape, so a
 * checkpoint that does not fit the spec fails at export with the offending name, not inside ONNX Runtime.
 */
/** Same structure as the trainer's NamedWeights (kept here so models/ depends on nothing above it). */
export interface NamedTensor {
  shape: number[];
  data: Float32Array;
}
export type WeightMap = Record<string, NamedTensor>;

export class WeightReader {
  constructor(private readonly weights: WeightMap) {}

  has(name: string): boolean {
    return name in this.weights;
  }

  get(name: string, shape?: number[]): NamedTensor {
    const w = this.weights[name];
    if (!w) throw new Error(`Missing weight "${name}" for ONNX export (does the checkpoint match the spec?)`);
    if (shape && (shape.length !== w.shape.length || shape.some((d, i) => d !== w.shape[i]))) {
      throw new Error(`Weight "${name}" has shape [${w.shape}] but the spec needs [${shape}]`);
    }
    const size = w.shape.reduce((a, b) => a * b, 1);
    if (w.data.length !== size) throw new Error(`Weight "${name}" holds ${w.data.length} values for shape [${w.shape}]`);
    return w;
  }
}

/** Permutes a row-major tensor: out[perm-indexed] (as numpy.transpose(x, perm)). */
export function transposeData(data: Float32Array, shape: number[], perm: number[]): { data: Float32Array; shape: number[] } {
  const rank = shape.length;
  const outShape = perm.map((p) => shape[p]);
  const inStrides = new Array<number>(rank);
  let s = 1;
  for (let i = rank - 1; i >= 0; i--) {
    inStrides[i] = s;
    s *= shape[i];
  }
  const out = new Float32Array(data.length);
  const idx = new Array<number>(rank).fill(0);
  const permStrides = perm.map((p) => inStrides[p]);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let i = 0; i < rank; i++) src += idx[i] * permStrides[i];
    out[o] = data[src];
    for (let i = rank - 1; i >= 0; i--) {
      if (++idx[i] < outShape[i]) break;
      idx[i] = 0;
    }
  }
  return { data: out, shape: outShape };
}
