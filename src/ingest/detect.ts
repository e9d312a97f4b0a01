// Format detection from the file name, confirmed by magic bytes, and the modality check that rejects e.g. a PNG
// uploaded to a text dataset.
import { InputError } from './errors';
import type { Modality } from './types';

export type FormatId =
  | 'txt'
  | 'jsonl'
  | 'csv'
  | 'png'
  | 'jpeg'
  | 'zip'
  | 'tar'
  | 'idx-images'
  | 'idx-labels'
  | 'npy'
  | 'wav';

export interface Detected {
  format: FormatId;
  /** True for `.gz` / `.tgz` wrappers (inflated before the format reader sees the bytes). */
  gzip: boolean;
}

/** Which modalities each format can feed. */
export const FORMAT_MODALITIES: Record<FormatId, readonly Modality[]> = {
  txt: ['TEXT'],
  jsonl: ['TEXT', 'SEQUENCE'],
  csv: ['TEXT', 'SEQUENCE'],
  png: ['IMAGE'],
  jpeg: ['IMAGE'],
  zip: ['IMAGE', 'SEQUENCE'],
  tar: ['IMAGE', 'SEQUENCE'],
  'idx-images': ['IMAGE'],
  'idx-labels': ['IMAGE'],
  npy: ['SEQUENCE'],
  wav: ['SEQUENCE'],
};

export const ACCEPTED_EXTENSIONS: Record<Modality, string> = {
  TEXT: '.txt, .jsonl, .csv (each optionally .gz)',
  IMAGE: '.png, .jpg/.jpeg, .zip, .tar, .tar.gz/.tgz, *-idx3-ubyte[.gz] (+ *-idx1-ubyte[.gz] labels)',
  SEQUENCE: '.csv, .jsonl (optionally .gz), .npy, .wav',
};

/** Detects the format from the name alone; throws UNSUPPORTED_FORMAT listing the accepted names. */
export function detectFromName(name: string, modality: Modality): Detected {
  const base = (name.split('/').pop() ?? name).toLowerCase();
  if (base.endsWith('.tar.gz') || base.endsWith('.tgz')) return { format: 'tar', gzip: true };
  const gzip = base.endsWith('.gz');
  const inner = gzip ? base.slice(0, -3) : base;
  if (/-idx3-ubyte$/.test(inner) || inner.endsWith('.idx3-ubyte')) return { format: 'idx-images', gzip };
  if (/-idx1-ubyte$/.test(inner) || inner.endsWith('.idx1-ubyte')) return { format: 'idx-labels', gzip };
  const ext = inner.slice(inner.lastIndexOf('.') + 1);
  const byExt: Record<string, FormatId> = {
    txt: 'txt',
    jsonl: 'jsonl',
    ndjson: 'jsonl',
    csv: 'csv',
    png: 'png',
    jpg: 'jpeg',
    jpeg: 'jpeg',
    zip: 'zip',
    tar: 'tar',
    npy: 'npy',
    wav: 'wav',
  };
  const format = inner.includes('.') ? byExt[ext] : undefined;
  // Binary containers are never gzipped by themselves here (a .png.gz is not a format we read).
  if (!format || (gzip && !['txt', 'jsonl', 'csv'].includes(format))) {
    throw new InputError(
      'UNSUPPORTED_FORMAT',
      `Unsupported file type: "${name}". Should be one of: ${ACCEPTED_EXTENSIONS[modality]}.`,
    );
  }
  return { format, gzip };
}

const MODALITY_WORD: Record<Modality, string> = { TEXT: 'text', IMAGE: 'image', SEQUENCE: 'sequence' };

/** Throws WRONG_MODALITY when a format cannot feed the dataset's modality. */
export function checkModality(name: string, format: FormatId, modality: Modality): void {
  const fits = FORMAT_MODALITIES[format];
  if (fits.includes(modality)) return;
  throw new InputError(
    'WRONG_MODALITY',
    `"${name}" is a ${fits.map((m) => MODALITY_WORD[m]).join('/')} file but this dataset is ${modality}. ` +
      `Files accepted for ${modality}: ${ACCEPTED_EXTENSIONS[modality]}.`,
  );
}

/** Names the binary kind of the leading bytes, or null when they could be text. */
export function sniffBinary(head: Uint8Array): string | null {
  const at = (i: number, bytes: number[]) => bytes.every((b, k) => head[i + k] === b);
  if (at(0, [0x89, 0x50, 0x4e, 0x47])) return 'PNG image';
  if (at(0, [0xff, 0xd8, 0xff])) return 'JPEG image';
  if (at(0, [0x50, 0x4b, 0x03, 0x04]) || at(0, [0x50, 0x4b, 0x05, 0x06])) return 'zip archive';
  if (at(0, [0x1f, 0x8b])) return 'gzip data';
  if (at(0, [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59])) return 'NumPy array';
  if (at(0, [0x52, 0x49, 0x46, 0x46]) && at(8, [0x57, 0x41, 0x56, 0x45])) return 'WAV audio';
  if (head.length >= 4 && head[0] === 0 && head[1] === 0 && head[2] === 0x08 && (head[3] === 1 || head[3] === 3)) {
    return 'IDX array';
  }
  if (head.length >= 262 && at(257, [0x75, 0x73, 0x74, 0x61, 0x72])) return 'tar archive';
  if (head.subarray(0, 512).includes(0)) return 'binary data';
  return null;
}

/** Text formats must not start with a known binary signature: that is a file of the wrong modality. */
export function checkTextHead(name: string, head: Uint8Array, modality: Modality): void {
  const kind = sniffBinary(head);
  if (kind !== null) {
    throw new InputError(
      'WRONG_MODALITY',
      `"${name}" is named as text but contains ${kind}. Files accepted for ${modality}: ${ACCEPTED_EXTENSIONS[modality]}.`,
    );
  }
}
