// Inference usage: summed in memory per model version and written every few seconds, not once per request.
import type { Logger } from 'pino';
import type { Db } from '../../db/client';

const USAGE_FLUSH_MS = 5_000;

export class InferenceUsage {
  private readonly pending = new Map<string, { tenantId: string; versionId: string; inputs: number }>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly db: Db,
    private readonly log: Logger,
  ) {
    this.timer = setInterval(() => void this.flush(), USAGE_FLUSH_MS);
    this.timer.unref();
  }

  record(tenantId: string, versionId: string, inputs: number): void {
    const u = this.pending.get(versionId) ?? { tenantId, versionId, inputs: 0 };
    u.inputs += inputs;
    this.pending.set(versionId, u);
  }

  async flush(): Promise<void> {
    const pending = [...this.pending.values()];
    this.pending.clear();
    if (pending.length === 0) return;
    await this.db.usageRecord
      .createMany({ data: pending.map((u) => ({ tenantId: u.tenantId, kind: 'inference.inputs', quantity: BigInt(u.inputs), ref: u.versionId })) })
      .catch((err: unknown) => this.log.warn({ err }, 'could not record inference usage'));
  }

  /** Stops the timer and writes what is pending. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
