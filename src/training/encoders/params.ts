/**
 * Named parameter store: every weight of a model is a `tf.Variable` under a stable, slash-separated name
 * (e.g. `encoder/block0/conv/kernel`, `encoder/layer1/attn/query/kernel`, `head/out/bias`). Non-trainable state
 * (batch-norm `moving_mean` / `moving_variance`) lives here too, marked trainable=false, so checkpoints and the
 * ONNX exporter see exactly the same tensors the tfjs model uses.
 *
 * Public API:
 *   type NamedWeights = Record<string, { shape: number[]; data: Float32Array }>
 *   class ParamStore { add(name, shape, init, {trainable}); get(name); has(name); names();
 *                      trainableVariables(); exportWeights(); importWeights(w, {strict}); dispose() }
 */
import { tf } from '../engine/tf';
import { InitKind, Rng, initValues } from './init';
import type { NamedTensor, NamedWeights } from '../../contracts/weights';

// Plain-array weights are a contract type (the weights file and the gateway read them without the engine).
export type { NamedTensor, NamedWeights };

interface Entry {
  variable: tf.Variable;
  trainable: boolean;
}

export class ParamStore {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly rng: Rng) {}

  /** Registers a float32 variable; names must be unique (a clash is a bug in an encoder). */
  add(name: string, shape: number[], init: InitKind, opts: { trainable?: boolean } = {}): tf.Variable {
    if (this.entries.has(name)) throw new Error(`Parameter "${name}" registered twice`);
    const size = shape.reduce((a, b) => a * b, 1);
    const values = initValues(init, size, this.rng);
    const trainable = opts.trainable ?? true;
    // Variable names are global in tfjs; a per-store suffix lets several models coexist.
    const initial = tf.tensor(values, shape, 'float32');
    const variable = tf.variable(initial, trainable, `${name}#${storeId++}`);
    initial.dispose(); // the variable holds its own reference to the data
    this.entries.set(name, { variable, trainable });
    return variable;
  }

  get(name: string): tf.Variable {
    const entry = this.entries.get(name);
    if (!entry) throw new Error(`Unknown parameter "${name}". Known: ${[...this.entries.keys()].join(', ')}`);
    return entry.variable;
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  names(): string[] {
    return [...this.entries.keys()];
  }

  isTrainable(name: string): boolean {
    return this.entries.get(name)?.trainable ?? false;
  }

  /** Name → variable for the trainable parameters (what an optimizer updates). */
  trainableVariables(): Record<string, tf.Variable> {
    const out: Record<string, tf.Variable> = {};
    for (const [name, e] of this.entries) if (e.trainable) out[name] = e.variable;
    return out;
  }

  /** The non-trainable state (batch-norm statistics), in registration order. */
  stateVariables(): tf.Variable[] {
    return [...this.entries.values()].filter((e) => !e.trainable).map((e) => e.variable);
  }

  /** Copies every parameter (trainable and not) out of the backend. */
  exportWeights(): NamedWeights {
    const out: NamedWeights = {};
    for (const [name, e] of this.entries) {
      out[name] = { shape: [...e.variable.shape], data: new Float32Array(e.variable.dataSync() as Float32Array) };
    }
    return out;
  }

  /**
   * Loads weights by name. Shapes must match. With strict (default) every parameter must be present and no
   * unknown names are allowed; non-strict loads the intersection (e.g. a pretrained encoder into a model with a
   * new head) and returns the names it skipped.
   */
  importWeights(weights: NamedWeights, opts: { strict?: boolean } = {}): { missing: string[]; unexpected: string[] } {
    const strict = opts.strict ?? true;
    const missing = this.names().filter((n) => !(n in weights));
    const unexpected = Object.keys(weights).filter((n) => !this.entries.has(n));
    if (strict && (missing.length || unexpected.length)) {
      throw new Error(
        `Weights do not match the model: missing [${missing.join(', ')}], unexpected [${unexpected.join(', ')}]. ` +
          'Pass { strict: false } to load only the parameters both have.',
      );
    }
    for (const [name, w] of Object.entries(weights)) {
      const entry = this.entries.get(name);
      if (!entry) continue;
      const shape = entry.variable.shape;
      if (shape.length !== w.shape.length || shape.some((d, i) => d !== w.shape[i])) {
        throw new Error(`Weight "${name}" has shape [${w.shape}] but the model expects [${shape}]`);
      }
      tf.tidy(() => entry.variable.assign(tf.tensor(w.data, w.shape, 'float32')));
    }
    return { missing, unexpected };
  }

  dispose(): void {
    for (const e of this.entries.values()) e.variable.dispose();
    this.entries.clear();
  }
}

let storeId = 0;
