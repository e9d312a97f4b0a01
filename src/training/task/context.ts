// What both trainer task kinds get from the entrypoint: the gateway, the spec, the dataset rows and the reporting
// helpers (logs, metrics, heartbeats) that keep the run alive and visible.
import type { Row, Manifest } from '../../ingest/types';
import type { CompletionReport, TrainerSpec } from '../../contracts/trainer-wire';
import type { GatewayClient } from './gateway-client';

export interface TaskContext {
  api: GatewayClient;
  spec: TrainerSpec;
  manifest: Manifest;
  rows: Row[];
  log(level: 'info' | 'warn' | 'error', message: string): void;
  flushLogs(): Promise<void>;
  /** Buffers a metric point; flushed with the next heartbeat. */
  metric(point: { step: number; name: string; value: number; epoch?: number }): void;
  flushMetrics(): Promise<void>;
  /** Flushes metrics and logs and reports progress, at most once per heartbeat interval unless `force`. */
  heartbeat(step: number, totalSteps: number, force?: boolean): Promise<void>;
}

/** A task kind: trains, uploads its artifacts under the run's prefix and says what to register. */
export type TaskRunner = (ctx: TaskContext) => Promise<CompletionReport>;
