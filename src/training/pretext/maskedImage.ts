import { tf } from '../engine/tf';
import { embeddingDim, type EncoderKind } from '../../models/spec';
import type { PretextModel } from '../encoders/model';
import type { ParamStore } from '../encoders/params';
import { maskedMse } from '../losses/maskedMse';
import type { Rng } from '../rng';
import { buildSpec, checkRatio, ensureKind, host, imageInput, modelInputs, stack, toTensor, unsupportedEncoder } from './common';
import { addLinear, linear } from './heads';
import { imageDims, toRawPixels } from './image';
import type { Example, HostBatch, LossOptions, ModelSizing, PretextTask, TaskOptions, TaskSetup } from './types';

/**
 * MASKED × IMAGE: a random share of non-overlapping p×p patches is set to mid-grey, and a linear head on the pooled
 * representation reconstructs every patch; the MSE counts only the hidden patches (SimMIM / MAE style). Reading the
 * pooled vector keeps the task valid for any image encoder (mlp or cnn).
 */
export class MaskedImageTask implements PretextTask {
  readonly pretext = 'MASKED' as const;
  readonly modality = 'IMAGE' as const;
  readonly encoderKinds: readonly EncoderKind[] = ['cnn', 'mlp'];
  readonly maskRatio: number;
  private readonly patchOption: number | undefined;

  constructor(options: TaskOptions = {}) {
    this.maskRatio = checkRatio('maskRatio', options.maskRatio ?? 0.5, 'Masked image modelling typically hides 0.4–0.75 of the patches.');
    this.patchOption = options.patchSize;
  }

  patchSize(setup: Omit<TaskSetup, 'spec'>): number {
    const { height, width } = imageDims(setup);
    if (this.patchOption !== undefined) {
      if (!Number.isInteger(this.patchOption) || this.patchOption < 1 || height % this.patchOption || width % this.patchOption) {
        throw new Error(`patchSize ${this.patchOption} must be a positive integer dividing the image size ${height}×${width}.`);
      }
      return this.patchOption;
    }
    return [7, 4, 2, 1].find((p) => height % p === 0 && width % p === 0)!;
  }

  modelSpec(kind: EncoderKind, setup: Omit<TaskSetup, 'spec'>, sizing: ModelSizing) {
    if (!this.encoderKinds.includes(kind)) throw unsupportedEncoder(this.pretext, this.modality, kind, this.encoderKinds);
    return buildSpec(imageInput(setup), kind, sizing, 'pooled');
  }

  addHeads(heads: ParamStore, setup: TaskSetup): void {
    const { height, width, channels } = imageDims(setup);
    addLinear(heads, 'task/reconstruct', embeddingDim(setup.spec), height * width * channels);
  }

  prepare(examples: readonly Example[], rng: Rng, setup: TaskSetup): HostBatch {
    const dims = imageDims(setup);
    const { height: H, width: W, channels: C } = dims;
    const p = this.patchSize(setup);
    const gh = H / p, gw = W / p, patches = gh * gw, patchDim = p * p * C;
    const images = ensureKind(examples, 'IMAGE');
    const inputs: Float32Array[] = [];
    const targets = new Float32Array(images.length * patches * patchDim);
    const mask = new Float32Array(images.length * patches);
    images.forEach((e, b) => {
      const hidden = new Uint8Array(patches);
      let any = false;
      for (let i = 0; i < patches; i++) if (rng.next() < this.maskRatio) { hidden[i] = 1; any = true; }
      if (!any) hidden[rng.int(patches)] = 1;
      const raw = toRawPixels(e.pixels);
      for (let py = 0; py < gh; py++) for (let px = 0; px < gw; px++) {
        const patch = py * gw + px;
        mask[b * patches + patch] = hidden[patch]!;
        for (let y = 0; y < p; y++) for (let x = 0; x < p; x++) for (let c = 0; c < C; c++) {
          const src = ((py * p + y) * W + (px * p + x)) * C + c;
          // Targets in patch-major order, so the head's output needs no transpose.
          targets[((b * patches + patch) * p + y) * p * C + x * C + c] = e.pixels[src]!;
          if (hidden[patch]) raw[src] = 127.5; // mid-grey = 0 after the model's normalization
        }
      }
      inputs.push(raw);
    });
    return {
      pixels: stack(inputs, [H, W, C]),
      targets: host(targets, [images.length, patches, patchDim]),
      mask: host(mask, [images.length, patches]),
    };
  }

  loss(model: PretextModel, heads: ParamStore, batch: HostBatch, options: LossOptions): tf.Scalar {
    return tf.tidy(() => {
      const targets = toTensor(batch.targets, 'targets');
      const pooled = model.apply(modelInputs(batch), { ...options, head: false }).pooled;
      const predictions = tf.reshape(linear(heads, 'task/reconstruct', pooled), targets.shape);
      return maskedMse(predictions, targets, toTensor(batch.mask, 'mask'));
    });
  }

  embedInputs(examples: readonly Example[], setup: TaskSetup): HostBatch {
    const d = imageDims(setup);
    return { pixels: stack(ensureKind(examples, 'IMAGE').map((e) => toRawPixels(e.pixels)), [d.height, d.width, d.channels]) };
  }

  embed(model: PretextModel, _heads: ParamStore, batch: HostBatch): tf.Tensor2D {
    return tf.tidy(() => model.apply(modelInputs(batch), { training: false, head: false }).embedding);
  }
}
