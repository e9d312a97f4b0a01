// Turns a finalized version's files into shards + manifest (src/ingest) in the background, one version at a time
// per process. Status moves PROCESSING → READY | FAILED in one conditional update; a version left PROCESSING by a
// crash is picked up again at start-up (recoverAtStartup), after its partial output is deleted. An object-store outage is
// not the data's fault: the version stays PROCESSING and is tried again with backoff once the store answers.
// processingStartedAt is the processing lease: it is set on finalize and refreshed (every leaseMs / 4) for every
// version this process holds (queued, processing or waiting for the store). recoverStale() takes over versions whose
// lease has lapsed (the process that held them died while others kept running) with a compare-and-set on it, so
// of several gateways exactly one re-processes such a version.
// Start-up recovery honours the lease too: a gateway that restarts (a crash, or one instance of a rolling deploy)
// must not re-process a version another live gateway is writing (recovery deletes the partial output first, so the
// other's READY version would lose shards). It takes over at once what no live process can hold (no lease, or one
// not renewed for two renewal periods, leaseMs / 2), and looks once more at the rest after leaseMs / 2: a version
// whose lease is still the value seen at start-up had no live holder (its own pre-crash lease, typically) and is
// taken over with a compare-and-set on that value; one whose lease moved is left to the process renewing it.
import type { Logger } from 'pino';
import type { Db, Prisma } from '../../db/client';
import { unscoped } from '../../db/scope';
import { IngestError, ingestStoreFrom, processDatasetVersion, type Manifest, type RowShape, type UploadedFile } from '../../ingest';
import { storageUnavailableIn, type ObjectStore } from '../../storage';
import { versionPrefix } from './keys';
import { lazyStream } from '../../storage/lazy-stream';


export function manifestSummary(m: Manifest): Prisma.InputJsonValue {
  const { shards, sources, ...rest } = m;
  return { ...rest, shardCount: shards.length, sourceCount: sources.length } as unknown as Prisma.InputJsonValue;
}

/** The version's `error` for a failure: the data's problems, a bad setting, or an internal error (no details). */
export function processingFailure(err: unknown): Prisma.InputJsonValue {
  const error =
    err instanceof IngestError
      ? { message: err.message, problems: err.problems, truncated: err.truncated }
      : err instanceof RangeError
        ? { message: err.message, problems: [], truncated: false }
        : { message: 'Processing failed because of an internal error; try finalizing a new version', problems: [], truncated: false };
  return error as unknown as Prisma.InputJsonValue;
}

/** Bytes a READY version's output holds: its shards plus the manifest. */
export async function outputBytes(store: ObjectStore, manifest: Manifest, manifestKey: string): Promise<bigint> {
  const manifestBytes = (await store.head(manifestKey))?.bytes ?? 0;
  return BigInt(manifest.shards.reduce((s, x) => s + x.bytes, 0) + manifestBytes);
}

export interface ProcessorRetryOptions {
  /** First wait after an outage; doubles each time, capped at maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Outages in a row after which the version is given up as FAILED (the default: about 20 minutes of outage). */
  maxRetries: number;
  /** A PROCESSING version whose lease is older than this belongs to no live process (default 10 minutes). */
  leaseMs?: number;
}

const DEFAULT_RETRY: ProcessorRetryOptions = { baseDelayMs: 500, maxDelayMs: 10_000, maxRetries: 120, leaseMs: 600_000 };

export interface ProcessorModeOptions {
  /**
   * true (a long-lived server): enqueue() processes in this process. false (serverless): enqueue() only leaves the
   * version PROCESSING; the scheduled worker tick finds it with drain().
   */
  inline: boolean;
  /** recover() / recoverStale() / drain() take only these tenants' versions (null or absent: every tenant's). */
  tenantScope?: () => readonly string[] | null;
}

export class DatasetProcessor {
  private chain: Promise<void> = Promise.resolve();
  private pending = 0;
  private closed = false;
  private readonly outages = new Map<string, number>();
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  /** Versions this process holds (queued, processing, or waiting for a retry), with how many holds each. */
  private readonly held = new Map<string, number>();
  private leaseTimer: NodeJS.Timeout | undefined;
  /** The start-up pass's second look, pending (close() cancels it). */
  private startupFollowUp: { timer: NodeJS.Timeout; resolve: (n: number) => void } | undefined;
  readonly leaseMs: number;

  constructor(
    private readonly db: Db,
    private readonly store: ObjectStore,
    private readonly log: Logger,
    private readonly retry: ProcessorRetryOptions = DEFAULT_RETRY,
    private readonly mode: ProcessorModeOptions = { inline: true },
  ) {
    this.leaseMs = retry.leaseMs ?? DEFAULT_RETRY.leaseMs!;
    if (!(this.leaseMs >= 100)) throw new Error(`processor leaseMs must be ≥ 100, got ${this.leaseMs}`);
  }

  private hold(versionId: string): void {
    this.held.set(versionId, (this.held.get(versionId) ?? 0) + 1);
    if (!this.leaseTimer && !this.closed) {
      this.leaseTimer = setInterval(() => void this.renewLeases(), Math.max(25, Math.floor(this.leaseMs / 4)));
      this.leaseTimer.unref();
    }
  }

  private release(versionId: string): void {
    const n = (this.held.get(versionId) ?? 1) - 1;
    if (n > 0) this.held.set(versionId, n);
    else this.held.delete(versionId);
    if (this.held.size === 0 && this.leaseTimer) {
      clearInterval(this.leaseTimer);
      this.leaseTimer = undefined;
    }
  }

  /** Refreshes the lease of every version held here (a database blip only delays it: the next tick tries again). */
  private async renewLeases(): Promise<void> {
    if (this.held.size === 0) return;
    // The timer was started inside whichever request enqueued first, and would inherit that tenant's RLS scope;
    // the lease covers every tenant's versions held here.
    await unscoped(() => this.db.datasetVersion
      .updateMany({ where: { id: { in: [...this.held.keys()] }, status: 'PROCESSING' }, data: { processingStartedAt: new Date() } }))
      .catch((err: unknown) => this.log.warn({ err }, 'dataset processing lease renewal failed; retrying on the next tick'));
  }

  /** Whether this process holds the version (tests). */
  holds(versionId: string): boolean {
    return this.held.has(versionId);
  }

  /** Versions waiting for a retry after an object-store outage. */
  get waitingForStore(): number {
    return this.retryTimers.size;
  }

  /** Called by finalize: processes the version here, or leaves it for the worker tick (serverless). */
  submit(versionId: string): void {
    if (this.mode.inline) this.enqueue(versionId);
  }

  enqueue(versionId: string): void {
    if (this.closed) return;
    this.pending += 1;
    this.hold(versionId);
    this.chain = this.chain
      .then(() => this.process(versionId))
      .catch((err: unknown) => this.log.error({ err, versionId }, 'dataset processing crashed'))
      .finally(() => {
        this.pending -= 1;
        this.release(versionId);
      });
  }

  /** Resolves when everything enqueued so far is done (tests, shutdown). */
  idle(): Promise<void> {
    return this.chain;
  }

  private tenantFilter(): { tenantId?: { in: string[] } } {
    const tenants = this.mode.tenantScope?.();
    return tenants ? { tenantId: { in: [...tenants] } } : {};
  }

  /**
   * The serverless worker tick's pass (drain): every version left PROCESSING is processed. Only the tick processes
   * versions there (request functions only mark them) and it runs one at a time (reserved concurrency 1), so no
   * other process can hold one.
   */
  async recover(): Promise<number> {
    const stuck = await this.db.datasetVersion.findMany({ where: { status: 'PROCESSING', ...this.tenantFilter() }, select: { id: true } });
    for (const v of stuck) this.enqueue(v.id);
    return stuck.length;
  }

  /**
   * A long-lived gateway's start-up pass (see the header): takes over now the PROCESSING versions whose lease is
   * missing or older than leaseMs / 2, and schedules one more look at the others after leaseMs / 2. Resolves with how
   * many it took over now; `followUp` resolves with how many the second look took.
   */
  async recoverAtStartup(now = new Date()): Promise<{ now: number; followUp: Promise<number> }> {
    const found = await this.db.datasetVersion.findMany({
      where: { status: 'PROCESSING', ...this.tenantFilter() },
      select: { id: true, processingStartedAt: true },
    });
    const fresh = now.getTime() - this.leaseMs / 2;
    const lapsed = found.filter((v) => !v.processingStartedAt || v.processingStartedAt.getTime() <= fresh);
    const recent = found.filter((v) => v.processingStartedAt && v.processingStartedAt.getTime() > fresh);
    const taken = await this.takeOver(lapsed, now);
    const followUp = recent.length === 0
      ? Promise.resolve(0)
      : new Promise<number>((resolve) => {
        const timer = setTimeout(() => {
          this.startupFollowUp = undefined;
          this.takeOver(recent, new Date()).then(resolve, (err: unknown) => {
            this.log.error({ err }, 'dataset recovery (second look after start-up) failed');
            resolve(0);
          });
        }, this.leaseMs / 2);
        timer.unref();
        this.startupFollowUp = { timer, resolve };
      });
    return { now: taken, followUp };
  }

  /** Enqueues each version whose lease is still the value read (compare-and-set), unless this process holds it. */
  private async takeOver(versions: { id: string; processingStartedAt: Date | null }[], now: Date): Promise<number> {
    let n = 0;
    for (const v of versions) {
      if (this.closed) break;
      if (this.held.has(v.id)) continue;
      const { count } = await this.db.datasetVersion.updateMany({
        where: { id: v.id, status: 'PROCESSING', processingStartedAt: v.processingStartedAt },
        data: { processingStartedAt: now },
      });
      if (count === 0) continue; // another gateway renewed or took it, or it finished
      this.log.warn({ versionId: v.id, leaseAt: v.processingStartedAt }, 'dataset version left PROCESSING with no live holder; processing it again');
      this.enqueue(v.id);
      n += 1;
    }
    return n;
  }

  /**
   * Takes over PROCESSING versions whose lease lapsed more than leaseMs ago and that this process does not hold:
   * their process died while others kept running (the periodic pass of every gateway). Each take-over is a
   * compare-and-set on the lease, so concurrent passes on several gateways enqueue a version once. Returns how many.
   */
  async recoverStale(now = new Date(), limit = 100): Promise<number> {
    if (this.closed) return 0;
    const cutoff = new Date(now.getTime() - this.leaseMs);
    const stale = await this.db.datasetVersion.findMany({
      where: { status: 'PROCESSING', ...this.tenantFilter(), OR: [{ processingStartedAt: null }, { processingStartedAt: { lt: cutoff } }] },
      select: { id: true, processingStartedAt: true },
      orderBy: { processingStartedAt: 'asc' },
      take: limit,
    });
    return this.takeOver(stale, now);
  }

  /**
   * One worker tick's share (serverless): processes every version left PROCESSING, then resolves. A version whose
   * store was down stays PROCESSING with its retry timer; the next tick (or that timer, once the function thaws)
   * processes it.
   */
  async drain(): Promise<number> {
    const n = await this.recover();
    await this.idle();
    return n;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.retryTimers) clearTimeout(t);
    this.retryTimers.clear();
    if (this.startupFollowUp) {
      clearTimeout(this.startupFollowUp.timer);
      this.startupFollowUp.resolve(0);
      this.startupFollowUp = undefined;
    }
    await this.chain;
    if (this.leaseTimer) clearInterval(this.leaseTimer);
    this.leaseTimer = undefined;
    this.held.clear();
  }

  /** Leaves the version PROCESSING and enqueues it again after a backoff; false once it has waited long enough. */
  private retryLater(versionId: string): boolean {
    const n = (this.outages.get(versionId) ?? 0) + 1;
    if (n > this.retry.maxRetries || this.closed) return false;
    this.outages.set(versionId, n);
    const delay = Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** (n - 1));
    this.hold(versionId); // still ours while it waits: no other pass may take it over
    const timer = setTimeout(() => {
      this.retryTimers.delete(timer);
      this.enqueue(versionId);
      this.release(versionId);
    }, delay);
    timer.unref();
    this.retryTimers.add(timer);
    this.log.warn({ versionId, retry: n, delayMs: delay }, 'object store unavailable; dataset processing will be retried');
    return true;
  }

  private async process(versionId: string): Promise<void> {
    const version = await this.db.datasetVersion.findUnique({ where: { id: versionId }, include: { dataset: true, files: { orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] } } });
    if (!version || version.status !== 'PROCESSING' || version.dataset.deletedAt) return;
    const prefix = versionPrefix(version.tenantId, version.datasetId, version.id);
    const files: UploadedFile[] = version.files
      // Upload order (the row order a version promises), the same order the sharded processing job reads.
      .filter((f) => f.status === 'UPLOADED')
      .map((f) => ({ name: f.name, bytes: Number(f.bytes), sha256: f.sha256 ?? '', open: () => lazyStream(() => this.store.get(f.storageKey)) }));
    const split = (version.splitRule ?? {}) as { seed?: string; validation?: number; test?: number };
    const started = Date.now();
    try {
      // Output of an interrupted earlier attempt must not mix with this one.
      await this.store.deletePrefix(`${prefix}/`);
      const manifest = await processDatasetVersion({
        files,
        shape: version.shape as unknown as RowShape,
        store: ingestStoreFrom(this.store),
        keyPrefix: prefix,
        split,
      });
      const manifestKey = `${prefix}/manifest.json`;
      const shardBytes = await outputBytes(this.store, manifest, manifestKey);
      const { count } = await this.db.datasetVersion.updateMany({
        where: { id: versionId, status: 'PROCESSING' },
        data: { status: 'READY', stats: manifestSummary(manifest), manifestKey, shardBytes, readyAt: new Date(), error: undefined },
      });
      if (count === 0) await this.store.deletePrefix(`${prefix}/`); // deleted meanwhile: drop the output
      this.outages.delete(versionId);
      this.log.info({ versionId, rows: manifest.rows, ms: Date.now() - started }, 'dataset version ready');
    } catch (err) {
      await this.store.deletePrefix(`${prefix}/`).catch(() => undefined);
      // Partial output that could not be deleted now is deleted by the retry's first step.
      if (storageUnavailableIn(err) && this.retryLater(versionId)) return;
      this.outages.delete(versionId);
      if (!(err instanceof IngestError) && !(err instanceof RangeError)) this.log.error({ err, versionId }, 'dataset processing failed');
      await this.db.datasetVersion.updateMany({
        where: { id: versionId, status: 'PROCESSING' },
        data: { status: 'FAILED', error: processingFailure(err) },
      });
    }
  }
}
