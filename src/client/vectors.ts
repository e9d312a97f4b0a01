/**
 * Client-side helpers for the packed wire forms (used by the CLI; importable by any Node client):
 *
 *   packPixels(uint8 HWC, [H, W, C])   → { base64, shape }  for EmbedInput.pixels (no server-side image decode)
 *   packFloat32(values, [T, F])        → { base64, shape }  for EmbedInput.tensor
 *   decodeEmbedding(e)                 → Float32Array from any Embedding (FLOAT values, BASE64, INT8 base64/values × scale)
 *
 * BASE64 float32 little-endian is the cheapest response to ask for: one string per vector instead of a JSON number
 * per dimension. BINARY vectors are sign bits, not values: read them with `e.bytes` / `e.base64` instead.
 */
export interface PackedArray {
  base64: string;
  shape: number[];
}

export interface EmbeddingLike {
  encoding: 'FLOAT' | 'BASE64' | 'INT8' | 'BINARY';
  values?: number[] | null;
  base64?: string | null;
  scale?: number | null;
}

const bytesOf = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

export function packPixels(pixels: Uint8Array, shape: [number, number, number]): PackedArray {
  if (pixels.length !== shape[0] * shape[1] * shape[2]) throw new RangeError(`pixels has ${pixels.length} bytes; shape [${shape.join(', ')}] needs ${shape[0] * shape[1] * shape[2]}`);
  return { base64: bytesOf(pixels).toString('base64'), shape: [...shape] };
}

export function packFloat32(values: ArrayLike<number>, shape: [number, number]): PackedArray {
  if (values.length !== shape[0] * shape[1]) throw new RangeError(`tensor has ${values.length} values; shape [${shape.join(', ')}] needs ${shape[0] * shape[1]}`);
  const f = values instanceof Float32Array ? values : Float32Array.from(values);
  const le = new Uint8Array(f.length * 4);
  const view = new DataView(le.buffer);
  for (let i = 0; i < f.length; i++) view.setFloat32(i * 4, f[i]!, true);
  return { base64: Buffer.from(le.buffer).toString('base64'), shape: [...shape] };
}

export function decodeEmbedding(e: EmbeddingLike): Float32Array {
  switch (e.encoding) {
    case 'FLOAT':
      if (!e.values) throw new Error('FLOAT embedding without values: select `values`');
      return Float32Array.from(e.values);
    case 'BASE64': {
      if (!e.base64) throw new Error('BASE64 embedding without base64: select `base64`');
      const b = Buffer.from(e.base64, 'base64');
      const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
      return Float32Array.from({ length: b.length / 4 }, (_, i) => view.getFloat32(i * 4, true));
    }
    case 'INT8': {
      const scale = e.scale ?? 0;
      if (e.base64) {
        const b = Buffer.from(e.base64, 'base64');
        return Float32Array.from(new Int8Array(b.buffer, b.byteOffset, b.length), (q) => q * scale);
      }
      if (!e.values) throw new Error('INT8 embedding without base64 or values');
      return Float32Array.from(e.values, (q) => q * scale);
    }
    case 'BINARY':
      throw new Error('BINARY embeddings are sign bits, not values: read bytes or base64');
  }
}
