// Shared building blocks: cards, status badges, error boxes, key-value lists, number formatting.
import type { ReactNode } from 'react';
import type { ApiError } from '../api';

export function Card(props: { title?: ReactNode; actions?: ReactNode; children: ReactNode; testId?: string }) {
  return (
    <section className="card" data-testid={props.testId}>
      {(props.title || props.actions) && (
        <header className="card-head">
          <h2>{props.title}</h2>
          <div className="card-actions">{props.actions}</div>
        </header>
      )}
      {props.children}
    </section>
  );
}

const TONE: Record<string, string> = {
  READY: 'ok',
  SUCCEEDED: 'ok',
  RUNNING: 'run',
  PROCESSING: 'run',
  BUILDING: 'run',
  DISPATCHED: 'run',
  QUEUED: 'wait',
  UPLOADING: 'wait',
  FAILED: 'bad',
  CANCELLED: 'muted',
};

export function Status({ value, testId }: { value: string; testId?: string }) {
  return (
    <span className={`badge badge-${TONE[value] ?? 'muted'}`} data-testid={testId} data-status={value}>
      {value}
    </span>
  );
}

/** A server error as the user sees it; data-code carries extensions.code (tests read it). */
export function ErrorBox({ error, testId = 'action-error' }: { error: ApiError | null; testId?: string }) {
  if (!error) return null;
  return (
    <div className="error" role="alert" data-testid={testId} data-code={error.code}>
      <strong>{error.code}</strong> {error.message}
    </div>
  );
}

export function KeyValues({ items }: { items: Array<[string, ReactNode]> }) {
  return (
    <dl className="kv">
      {items.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{v ?? '—'}</dd>
        </div>
      ))}
    </dl>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="empty">{children}</p>;
}

export function Loading() {
  return <p className="muted">Loading…</p>;
}

export function fmtBytes(v: string | number | null | undefined): string {
  const n = Number(v ?? 0);
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let x = n / 1024;
  let u = 0;
  while (x >= 1024 && u < units.length - 1) {
    x /= 1024;
    u++;
  }
  return `${x.toFixed(x < 10 ? 1 : 0)} ${units[u]}`;
}

export function fmtTime(v: string | null | undefined): string {
  if (!v) return '—';
  return new Date(v).toLocaleString();
}

export function fmtNum(v: unknown, digits = 4): string {
  return typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : '—';
}

export function shortId(id: string): string {
  return id.slice(0, 8);
}
