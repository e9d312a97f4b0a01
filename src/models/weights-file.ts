// A model version's trained weights as one object: what fine-tuning starts from (the ONNX graph alone is not
// enough: its initializers are laid out for inference, and some are folded). Layout, little-endian:
//   "PTW1"                 4-byte magic
//   u32 headerBytes        length of the JSON header
//   header (UTF-8 JSON)    { formatVersion: 1, tensors: { name: { shape, offset, length } } }, offsets in floats
//   zero padding           to a 4-byte boundary
//   float32[]              every tensor, in header order
// Self-describing so the gateway and the trainer need no side file; decoding checks every bound and value.
import type { NamedWeights } from '../contracts/weights';

const MAGIC = Buffer.from('PTW1', 'ascii');
const MAX_HEADER_BYTES = 16 * 1024 * 1024;

interface Header {
  formatVersion: 1;
  tensors: Record<string, { shape: number[]; offset: number; length: number }>;
}

export function encodeWeights(weights: NamedWeights): Buffer {
  const tensors: Header['tensors'] = {};
  let total = 0;
  for (const [name, t] of Object.entries(weights)) {
    tensors[name] = { shape: [...t.shape], offset: total, length: t.data.length };
    total += t.data.length;
  }
  const header = Buffer.from(JSON.stringify({ formatVersion: 1, tensors } satisfies Header), 'utf8');
  const pad = (4 - ((8 + header.length) % 4)) % 4;
  const out = Buffer.alloc(8 + header.length + pad + total * 4);
  MAGIC.copy(out, 0);
  out.writeUInt32LE(header.length, 4);
  header.copy(out, 8);
  const body = new Float32Array(out.buffer, out.byteOffset + 8 + header.length + pad, total);
  for (const [name, t] of Object.entries(weights)) body.set(t.data, tensors[name]!.offset);
  return out;
}

export function decodeWeights(bytes: Uint8Array): NamedWeights {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < 8 || !buf.subarray(0, 4).equals(MAGIC)) throw new Error('Not a Pretext weights file (the "PTW1" magic is missing)');
  const headerBytes = buf.readUInt32LE(4);
  if (headerBytes > MAX_HEADER_BYTES || 8 + headerBytes > buf.length) throw new Error(`Weights file header of ${headerBytes} bytes does not fit the ${buf.length}-byte file`);
  let header: Header;
  try {
    header = JSON.parse(buf.subarray(8, 8 + headerBytes).toString('utf8')) as Header;
  } catch {
    throw new Error('Weights file header is not valid JSON');
  }
  if (header.formatVersion !== 1) throw new Error(`Unsupported weights formatVersion: "${String(header.formatVersion)}". Should be one of: 1.`);
  const start = 8 + headerBytes + ((4 - ((8 + headerBytes) % 4)) % 4);
  const floats = (buf.length - start) / 4;
  if (!Number.isInteger(floats) || floats < 0) throw new Error('Weights file body is not a whole number of float32 values');
  // Copy into an aligned array: the object's bytes may sit at any offset of a pooled Buffer.
  const body = new Float32Array(floats);
  new Uint8Array(body.buffer).set(buf.subarray(start));
  const out: NamedWeights = {};
  for (const [name, e] of Object.entries(header.tensors ?? {})) {
    const size = Array.isArray(e.shape) ? e.shape.reduce((a, d) => a * d, 1) : NaN;
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isInteger(d) && d >= 0) || size !== e.length) {
      throw new Error(`Weights file tensor ${name}: shape ${JSON.stringify(e.shape)} does not hold ${e.length} values`);
    }
    if (!Number.isInteger(e.offset) || e.offset < 0 || e.offset + e.length > floats) throw new Error(`Weights file tensor ${name} lies outside the file`);
    const data = body.slice(e.offset, e.offset + e.length);
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i]!)) throw new Error(`Weights file tensor ${name} holds ${data[i]} at index ${i}; trained weights must be finite`);
    }
    out[name] = { shape: e.shape, data };
  }
  return out;
}
