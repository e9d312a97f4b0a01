// The tenant scope of database work: which tenant (or which operator) the queries of the current async call tree
// act for. src/db/rls.ts reads it for every query and transaction and makes Postgres enforce it with row-level
// security (prisma/migrations/*_row_level_security): each scoped statement runs in a transaction that first does
//   SELECT set_config('pretext.tenant_id', <tenant>, true), set_config('role', 'pretext_app', true)
// so the policies refuse every row of another tenant, whatever the application's own filters say.
//
// Scopes are opened explicitly: withTenant / asOperator / unscoped around a piece of work, or a request scope that a
// transport opens before authenticating and fills once the principal is known (openRequestScope + setRequestPrincipal).
import { AsyncLocalStorage } from 'node:async_hooks';

export type DbScope =
  /** Rows of this tenant only; `tenantId: null` (an anonymous request) sees no tenant-owned row at all. */
  | { kind: 'tenant'; tenantId: string | null }
  /** Every row, as the explicit pretext_operator role; `actor` names who (audit events, logs). */
  | { kind: 'operator'; actor: string };

/** What the storage holds: a cell, so a request scope can be filled after it was opened (authentication). */
interface ScopeCell { scope: DbScope | undefined; sealed: boolean }

const storage = new AsyncLocalStorage<ScopeCell>();

/**
 * Runs `fn` in `cell` and settles its result there. Prisma's query promises are lazy: the query starts when `.then`
 * is first called, so `.then` must be called inside the scope, not by whoever awaits the returned value.
 */
function runIn<T>(cell: ScopeCell, fn: () => T | PromiseLike<T>): Promise<T> {
  return storage.run(cell, () => new Promise<T>((resolve, reject) => {
    try {
      const r = fn();
      if (r && typeof (r as PromiseLike<T>).then === 'function') (r as PromiseLike<T>).then(resolve, reject);
      else resolve(r as T);
    } catch (err) {
      reject(err);
    }
  }));
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function checked(scope: DbScope): DbScope {
  if (scope.kind === 'tenant' && scope.tenantId !== null && !UUID.test(scope.tenantId)) throw new Error(`Not a tenant id: ${scope.tenantId}`);
  return scope;
}

/** The scope of the work in progress; undefined = none (the connecting role, as before row-level security). */
export function currentDbScope(): DbScope | undefined {
  return storage.getStore()?.scope;
}

/** Runs `fn` (and everything it starts) as tenant `tenantId`: Postgres shows and accepts that tenant's rows only. */
export function withTenant<T>(tenantId: string, fn: () => T | PromiseLike<T>): Promise<T> {
  return runIn({ scope: checked({ kind: 'tenant', tenantId }), sealed: true }, fn);
}

/** Runs `fn` as the pretext_operator role (every tenant's rows). For operator paths only; `actor` says who. */
export function asOperator<T>(actor: string, fn: () => T | PromiseLike<T>): Promise<T> {
  return runIn({ scope: { kind: 'operator', actor }, sealed: true }, fn);
}

/**
 * Runs `fn` outside any scope: background work that spans tenants (usage flushes, queue workers) and must not
 * inherit the scope of the request that happened to start it.
 */
export function unscoped<T>(fn: () => T | PromiseLike<T>): Promise<T> {
  return runIn({ scope: undefined, sealed: true }, fn);
}

/** Opens an empty request scope around `fn`; setRequestScope fills it once the caller is authenticated. */
export function openRequestScope<T>(fn: () => T | PromiseLike<T>): Promise<T> {
  return runIn({ scope: undefined, sealed: false }, fn);
}

/**
 * Fills the request scope opened by the transport (no-op where none is open, e.g. a test calling buildContext
 * directly). A request scope is filled once: a second call cannot widen it.
 */
export function setRequestScope(scope: DbScope): void {
  const cell = storage.getStore();
  if (!cell || cell.sealed) return;
  cell.scope = checked(scope);
  cell.sealed = true;
}

/** The scope a request principal gets: its tenant, the operator role, or (anonymous) no tenant at all. */
export function scopeOfPrincipal(p: { kind: 'anonymous' } | { kind: 'operator' } | { kind: 'tenant'; tenantId: string }): DbScope {
  switch (p.kind) {
    case 'tenant':
      return { kind: 'tenant', tenantId: p.tenantId };
    case 'operator':
      return { kind: 'operator', actor: 'operator' };
    case 'anonymous':
      return { kind: 'tenant', tenantId: null };
  }
}
