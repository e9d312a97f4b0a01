// A pool of arm-runner worker threads (./arm-worker.ts), one per core: jobs are handed to whichever is free.
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ArmJob, ArmOutcome, ArmWorkerData } from './arm-worker';

export class ArmPool {
  private readonly idle: Worker[] = [];
  private readonly queue: Array<{ job: ArmJob; resolve: (o: ArmOutcome) => void; reject: (e: Error) => void }> = [];
  private readonly running = new Map<Worker, { resolve: (o: ArmOutcome) => void; reject: (e: Error) => void }>();
  private readonly workers: Worker[] = [];

  constructor(data: ArmWorkerData, size = os.availableParallelism()) {
    const ext = path.extname(__filename);
    const file = path.join(__dirname, `arm-worker${ext}`);
    const execArgv = ext === '.ts' ? ['--require', require.resolve('tsx/cjs')] : [];
    for (let i = 0; i < Math.max(1, size); i++) {
      const w = new Worker(file, { workerData: data, execArgv });
      w.on('message', (o: ArmOutcome) => {
        const job = this.running.get(w);
        this.running.delete(w);
        if (o.error !== undefined) job?.reject(new Error(o.error));
        else job?.resolve(o);
        this.idle.push(w);
        this.pump();
      });
      w.on('error', (e) => {
        this.running.get(w)?.reject(e);
        this.running.delete(w);
      });
      this.workers.push(w);
      this.idle.push(w);
    }
  }

  run(job: ArmJob): Promise<ArmOutcome> {
    return new Promise((resolve, reject) => {
      this.queue.push({ job, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.idle.length && this.queue.length) {
      const w = this.idle.pop()!;
      const { job, resolve, reject } = this.queue.shift()!;
      this.running.set(w, { resolve, reject });
      w.postMessage(job);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
