// Row-level security plumbing between Prisma and Postgres: a driver adapter around PrismaPg that runs every
// statement issued inside a DbScope (src/db/scope.ts) in a transaction that first switches to the scope's role and
// tenant, on the same connection:
//   - a transaction Prisma starts (interactive, batch, or its own for nested writes) gets the switch right after
//     BEGIN, so it is one transaction as before, no nesting (PGlite's single pooled connection cannot nest);
//   - a statement outside any transaction becomes BEGIN; switch; statement; COMMIT on one pooled connection.
// Outside a scope statements run as before, as the connecting role. The switch is transaction-local (SET LOCAL
// semantics), so nothing outlives the transaction, which matters on PGlite where every connection shares one session.
import type { PrismaPg } from '@prisma/adapter-pg';
import { currentDbScope, type DbScope } from './scope';

type Factory = PrismaPg;
type Adapter = Awaited<ReturnType<Factory['connect']>>;
type Tx = Awaited<ReturnType<Adapter['startTransaction']>>;
type Query = Parameters<Adapter['queryRaw']>[0];

export const APP_ROLE = 'pretext_app';
export const OPERATOR_ROLE = 'pretext_operator';

/** The statement that puts a transaction into `scope`. */
export function scopeStatement(scope: DbScope): Query {
  if (scope.kind === 'operator') {
    return { sql: `SELECT set_config('role', '${OPERATOR_ROLE}', true), set_config('pretext.tenant_id', '', true), set_config('pretext.actor', $1, true)`, args: [scope.actor], argTypes: [{ scalarType: 'string', arity: 'scalar' }] } as unknown as Query;
  }
  return {
    sql: `SELECT set_config('role', '${APP_ROLE}', true), set_config('pretext.tenant_id', $1, true)`,
    args: [scope.tenantId ?? ''],
    argTypes: [{ scalarType: 'string', arity: 'scalar' }],
  } as unknown as Query;
}

const COMMIT = { sql: 'COMMIT', args: [], argTypes: [] } as unknown as Query;
const ROLLBACK = { sql: 'ROLLBACK', args: [], argTypes: [] } as unknown as Query;

async function inScopedTransaction<R>(inner: Adapter, scope: DbScope, run: (tx: Tx) => Promise<R>): Promise<R> {
  const tx = await inner.startTransaction();
  let result: R;
  try {
    await tx.executeRaw(scopeStatement(scope));
    result = await run(tx);
    await tx.executeRaw(COMMIT);
  } catch (err) {
    await tx.executeRaw(ROLLBACK).catch(() => undefined);
    await tx.rollback().catch(() => undefined);
    throw err;
  }
  await tx.commit();
  return result;
}

function scopedAdapter(inner: Adapter): Adapter {
  const wrapped = Object.create(inner) as Adapter;
  return Object.assign(wrapped, {
    async queryRaw(query: Query) {
      const scope = currentDbScope();
      return scope ? inScopedTransaction(inner, scope, (tx) => tx.queryRaw(query)) : inner.queryRaw(query);
    },
    async executeRaw(query: Query) {
      const scope = currentDbScope();
      return scope ? inScopedTransaction(inner, scope, (tx) => tx.executeRaw(query)) : inner.executeRaw(query);
    },
    async startTransaction(isolationLevel?: Parameters<Adapter['startTransaction']>[0]) {
      const tx = await inner.startTransaction(isolationLevel);
      const scope = currentDbScope();
      if (scope) {
        try {
          await tx.executeRaw(scopeStatement(scope));
        } catch (err) {
          await tx.executeRaw(ROLLBACK).catch(() => undefined);
          await tx.rollback().catch(() => undefined);
          throw err;
        }
      }
      return tx;
    },
    executeScript: (script: string) => inner.executeScript(script),
    dispose: () => inner.dispose(),
  });
}

/** Wraps the PrismaPg factory so that every connection it makes honours the current DbScope. */
export function withRowLevelSecurity(factory: Factory): Factory {
  const wrapped = Object.create(factory) as Factory;
  wrapped.connect = async () => scopedAdapter(await factory.connect());
  return wrapped;
}

interface BatchRequest { transaction?: unknown }
interface DataLoaderInternals { options: { batchBy(req: BatchRequest): string | undefined } }

/**
 * Prisma batches findUnique calls made in the same tick into one query and runs it in the async context of the
 * first caller, so queries of two tenants would share one scope. Scoped calls outside a transaction therefore skip
 * that batching (each runs on its own, in its own scope); calls in a transaction batch as before (one context).
 * Relies on the client's internals; the RLS tests fail loudly if a Prisma upgrade moves them.
 */
export function unbatchScopedQueries(client: object): void {
  const loader = (client as { _requestHandler?: { dataloader?: DataLoaderInternals } })._requestHandler?.dataloader;
  if (!loader || typeof loader.options?.batchBy !== 'function') {
    throw new Error('Prisma client internals changed (_requestHandler.dataloader.options.batchBy): review src/db/rls.ts');
  }
  const batchBy = loader.options.batchBy.bind(loader.options);
  loader.options.batchBy = (req) => (!req.transaction && currentDbScope() ? undefined : batchBy(req));
}
