// Checkpoints of a run (PRETRAIN or FINETUNE) in its output prefix, through presigned URLs; the gateway records the
// latest one and hands it to the next attempt (TrainerSpec.checkpoint).
import type { TrainerSpec } from '../../contracts/trainer-wire';
import { deserializeCheckpoint, serializeCheckpoint, type Checkpoint, type CheckpointStore } from '../trainer/checkpoint';
import { download, upload, type GatewayClient } from './gateway-client';

/** Checkpoints in the run's output prefix, through presigned URLs; the gateway records the latest one. */
export class GatewayCheckpointStore implements CheckpointStore {
  constructor(
    private readonly api: GatewayClient,
    private readonly initial: TrainerSpec['checkpoint'],
    /** Runs before the gateway records the checkpoint: metrics up to its step must be stored first, or a crash
     * between the two would lose them (the next attempt resumes after the checkpoint and never re-reports them). */
    private readonly beforeRecord: () => Promise<void>,
  ) {}

  async save(ckpt: Checkpoint): Promise<string> {
    const dir = `checkpoints/step-${String(ckpt.step).padStart(8, '0')}`;
    const { json, tensors } = serializeCheckpoint(ckpt);
    await upload(this.api, `${dir}/tensors.bin`, tensors);
    await upload(this.api, `${dir}/checkpoint.json`, Buffer.from(json));
    await this.beforeRecord();
    await this.api.call('POST', '/checkpoint', { step: ckpt.step, path: dir });
    return dir;
  }

  async latest(): Promise<Checkpoint | null> {
    if (!this.initial) return null;
    return deserializeCheckpoint((await download(this.initial.jsonUrl)).toString('utf8'), await download(this.initial.tensorsUrl));
  }
}
