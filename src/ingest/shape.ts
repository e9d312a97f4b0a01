// Validation of a declared row shape, with messages that say how to fix it.
import type { RowShape } from './types';

const MAX_SIDE = 4096;

export function validateShape(shape: RowShape, allowOpen = false): RowShape {
  const min = allowOpen ? 0 : 1;
  const int = (v: unknown, name: string, lo: number, hi: number) => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) {
      throw new RangeError(`${name} must be an integer in [${lo}, ${hi}], got ${String(v)}.`);
    }
  };
  switch (shape?.modality) {
    case 'TEXT':
      return { modality: 'TEXT' };
    case 'IMAGE':
      int(shape.height, 'image height', min, MAX_SIDE);
      int(shape.width, 'image width', min, MAX_SIDE);
      if (shape.channels !== 1 && shape.channels !== 3) {
        throw new RangeError(`Unsupported image channels: ${String(shape.channels)}. Should be one of: 1, 3.`);
      }
      return { modality: 'IMAGE', height: shape.height, width: shape.width, channels: shape.channels };
    case 'SEQUENCE':
      int(shape.features, 'sequence features', min, 1 << 16);
      if (shape.length !== null) int(shape.length, 'sequence length (or null for variable length)', 1, 1 << 24);
      if (shape.sampleRate !== undefined) {
        // Audio clips: mono samples (features 1) at sampleRate Hz; 0 = taken from the first recording (local loading).
        int(shape.sampleRate, 'audio sample rate (Hz)', allowOpen ? 0 : 1, 384_000);
        if (shape.features !== 1 && !(allowOpen && shape.features === 0)) throw new RangeError(`audio clips are mono: sequence features must be 1, got ${shape.features}.`);
        return { modality: 'SEQUENCE', length: shape.length, features: 1, sampleRate: shape.sampleRate };
      }
      return { modality: 'SEQUENCE', length: shape.length, features: shape.features };
    default:
      throw new RangeError(`Unsupported modality: "${String((shape as { modality?: unknown })?.modality)}". Should be one of: TEXT, IMAGE, SEQUENCE.`);
  }
}
