import type { EncoderKind } from '../../models/spec';
import { randomResizedCrop } from '../augment/randomResizedCrop';
import { horizontalFlip } from '../augment/horizontalFlip';
import { colorJitter } from '../augment/colorJitter';
import { gaussianBlur } from '../augment/gaussianBlur';
import type { ImageDims } from '../augment/types';
import type { Rng } from '../rng';
import { ensureKind, imageInput, stack } from './common';
import { ContrastiveTask } from './contrastive';
import { imageDims, toRawPixels } from './image';
import type { Example, HostBatch, TaskSetup } from './types';

/** CONTRASTIVE × IMAGE: SimCLR views (random resized crop, flip, brightness/contrast jitter, blur); NT-Xent. */
export class ContrastiveImageTask extends ContrastiveTask {
  readonly modality = 'IMAGE' as const;
  readonly encoderKinds: readonly EncoderKind[] = ['cnn', 'mlp'];

  protected input(setup: Omit<TaskSetup, 'spec'>) { return imageInput(setup); }

  protected views(examples: readonly Example[], rng: Rng, setup: TaskSetup): HostBatch {
    const dims = imageDims(setup);
    const images = ensureKind(examples, 'IMAGE');
    const view = (p: Float32Array) => toRawPixels(augment(p, dims, rng));
    const inner = [dims.height, dims.width, dims.channels];
    return { 'a.pixels': stack(images.map((e) => view(e.pixels)), inner), 'b.pixels': stack(images.map((e) => view(e.pixels)), inner) };
  }

  embedInputs(examples: readonly Example[], setup: TaskSetup): HostBatch {
    const dims = imageDims(setup);
    return { pixels: stack(ensureKind(examples, 'IMAGE').map((e) => toRawPixels(e.pixels)), [dims.height, dims.width, dims.channels]) };
  }
}

function augment(p: Float32Array, dims: ImageDims, rng: Rng): Float32Array {
  let x = randomResizedCrop(p, dims, rng, { scale: [0.3, 1] });
  x = horizontalFlip(x, dims, rng, 0.5);
  x = colorJitter(x, dims, rng, { brightness: 0.4, contrast: 0.4 });
  return gaussianBlur(x, dims, rng, { sigma: [0.1, 1.0], p: 0.5 });
}
