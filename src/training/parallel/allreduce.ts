// Gradient averaging between data-parallel replicas (worker threads) through shared memory.
//
// Every replica holds identical weights. Per step each one computes gradients on its shard of the batch, writes
// them (scaled by its share of the batch) into its own slot of a SharedArrayBuffer, waits at a barrier, and then
// sums all slots in rank order 0..N−1. Every replica performs the same float additions in the same order, so all
// of them get bit-identical averaged gradients and, after the same optimizer update, bit-identical weights: weights
// never need to be broadcast.
//
// Slots are double-buffered by step parity: a replica writes slot set (t mod 2) at step t only after the barrier of
// step t−1, which every replica passes only once all of them have arrived, i.e. after they finished reading the
// step t−2 data of the same parity. One barrier per step is therefore enough.
//
// Control words (Int32, in the control buffer):
//   COUNT   replicas arrived at the current barrier     GEN    barrier generation (waiters sleep on it)
//   ABORT   set by anyone (the coordinator on a failure) to make every waiter throw instead of hanging
//   STOP    set by the coordinator when the run should stop; read by rank 0, agreed through the reduced buffer

export const CONTROL_WORDS = 8;
const COUNT = 0;
const GEN = 1;
const ABORT = 2;
const STOP = 3;

export interface ReplicaBuffers {
  /** Int32 control words (CONTROL_WORDS). */
  control: SharedArrayBuffer;
  /** 2 parities × `replicas` slots × `length` float32 values. */
  data: SharedArrayBuffer;
  replicas: number;
  /** Floats reduced per step. */
  length: number;
}

export class ReplicaAborted extends Error {
  constructor() {
    super('Another data-parallel replica failed; this one stops too.');
    this.name = 'ReplicaAborted';
  }
}

export function createControl(): SharedArrayBuffer {
  return new SharedArrayBuffer(CONTROL_WORDS * Int32Array.BYTES_PER_ELEMENT);
}

export function createReplicaData(replicas: number, length: number): SharedArrayBuffer {
  if (!Number.isInteger(replicas) || replicas < 1) throw new Error(`replicas must be a positive integer; got ${replicas}.`);
  if (!Number.isInteger(length) || length < 1) throw new Error(`length must be a positive integer; got ${length}.`);
  return new SharedArrayBuffer(2 * replicas * length * Float32Array.BYTES_PER_ELEMENT);
}

/** Coordinator-side controls (the thread that does not take part in the reduction). */
export function requestStop(control: SharedArrayBuffer): void {
  Atomics.store(new Int32Array(control), STOP, 1);
}

export function abortReplicas(control: SharedArrayBuffer): void {
  const c = new Int32Array(control);
  Atomics.store(c, ABORT, 1);
  Atomics.notify(c, GEN);
}

export class SharedAllReduce {
  private readonly control: Int32Array;
  private readonly slots: Float32Array[][];
  private readonly out: Float32Array;
  private step = 0;

  constructor(private readonly buffers: ReplicaBuffers, readonly rank: number) {
    if (!(rank >= 0 && rank < buffers.replicas)) throw new Error(`rank ${rank} is outside 0..${buffers.replicas - 1}.`);
    this.control = new Int32Array(buffers.control);
    const { replicas, length } = buffers;
    this.slots = [0, 1].map((parity) =>
      Array.from({ length: replicas }, (_, r) => new Float32Array(buffers.data, ((parity * replicas + r) * length) * 4, length)),
    );
    this.out = new Float32Array(length);
  }

  get replicas(): number { return this.buffers.replicas; }
  get length(): number { return this.buffers.length; }

  /** True once the coordinator asked the run to stop (meaningful on rank 0, which decides for everyone). */
  stopRequested(): boolean {
    return Atomics.load(this.control, STOP) === 1;
  }

  /**
   * Σ_r weight_r · local_r over every replica, identical on all of them. `weight` is this replica's share of the
   * batch (the shares sum to 1, so the result is the full-batch mean of per-example quantities). The returned array
   * is reused by the next call.
   */
  reduce(local: Float32Array, weight: number): Float32Array {
    if (local.length !== this.length) throw new Error(`reduce got ${local.length} values; the buffers hold ${this.length}.`);
    const parity = this.step & 1;
    this.step += 1;
    const mine = this.slots[parity]![this.rank]!;
    for (let i = 0; i < local.length; i++) mine[i] = local[i]! * weight;
    this.barrier();
    const out = this.out;
    out.set(this.slots[parity]![0]!);
    for (let r = 1; r < this.replicas; r++) {
      const s = this.slots[parity]![r]!;
      for (let i = 0; i < out.length; i++) out[i]! += s[i]!;
    }
    return out;
  }

  /** Waits until every replica has arrived; throws ReplicaAborted when the run was aborted meanwhile. */
  barrier(): void {
    const c = this.control;
    if (Atomics.load(c, ABORT) === 1) throw new ReplicaAborted();
    const gen = Atomics.load(c, GEN);
    if (Atomics.add(c, COUNT, 1) === this.replicas - 1) {
      Atomics.store(c, COUNT, 0);
      Atomics.add(c, GEN, 1);
      Atomics.notify(c, GEN);
      return;
    }
    // Timed waits so an abort (a replica died, nobody will ever arrive) is noticed instead of hanging forever.
    while (Atomics.load(c, GEN) === gen) {
      Atomics.wait(c, GEN, gen, 200);
      if (Atomics.load(c, ABORT) === 1) throw new ReplicaAborted();
    }
  }
}
