// Image helpers shared by the IMAGE tasks.
import type { ImageDims } from '../augment/types';
import type { TaskSetup } from './types';

export function imageDims(setup: Omit<TaskSetup, 'spec'>): ImageDims {
  const s = setup.shape;
  if (s.modality !== 'IMAGE') throw new Error(`Expected an IMAGE dataset shape; got ${s.modality}.`);
  return { height: s.height, width: s.width, channels: s.channels };
}

/** 0..1 pixels → the raw 0..255 the model's image input expects. */
export function toRawPixels(p: Float32Array): Float32Array {
  const out = new Float32Array(p.length);
  for (let i = 0; i < p.length; i++) out[i] = p[i]! * 255;
  return out;
}
