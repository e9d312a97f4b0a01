// One data-access rule for every module: services query Prisma themselves. A domain's service (or a file named for
// its concern, e.g. limits/buckets.ts for the shared token-bucket statement, audit/service.ts for recordAudit)
// holds its queries; there is no repository layer in between, and resolvers reach data only through services.
// Checked on the import graph (import-graph.ts):
//   - no repository.ts under src/modules, and no *Repository class anywhere in src;
//   - the generated Prisma client (src/db/generated, @prisma/*) is imported only by src/db;
//   - src/db is imported only by src/modules, src/db and src/jobs (the queue's transactions), plus the composition
//     root that opens the database (src/platform.ts) and the codegen'd resolver types (row types as mappers);
//   - the transports (src/gateway) may import src/db/scope.ts, and only it: they open each request's row-level-security
//     scope before authenticating (that file holds an AsyncLocalStorage and nothing of Prisma);
//   - GraphQL resolvers import src/db for types only.
import fs from 'node:fs';
import path from 'node:path';
import { filesUnder, importsOf, ROOT } from './import-graph';

const SRC = filesUnder('src');
const inside = (file: string, ...dirs: string[]) => dirs.some((d) => file.startsWith(`${d}/`));
const isDb = (to: string) => to.startsWith('src/db/');
const isPrismaClient = (to: string) => to.startsWith('src/db/generated/') || to.startsWith('@prisma/');

/** Importers of src/db outside the data-access rooms, each with the reason it may. */
const DB_OUTSIDE_MODULES: Record<string, string> = {
  'src/platform.ts': 'the composition root opens the database and hands the client to createServices',
  'src/gateway/generated/resolvers.ts': 'graphql-codegen maps GraphQL types to Prisma row types (types only)',
  'src/cli/commands/db.ts': 'operator setup: migrates and creates the runtime login role with the owner URL (no Prisma client)',
};

function edges(pred: (from: string, to: string, typeOnly: boolean) => boolean): string[] {
  const out: string[] = [];
  for (const file of SRC) for (const e of importsOf(file)) if (pred(file, e.to, e.typeOnly)) out.push(`${file} → ${e.to}${e.typeOnly ? ' (type)' : ''}`);
  return out;
}

describe('architecture: services over Prisma', () => {
  test('no repository files or classes', () => {
    expect(SRC.filter((f) => inside(f, 'src/modules') && path.basename(f) === 'repository.ts')).toEqual([]);
    const classes = SRC.filter((f) => /\bclass\s+\w+Repository\b/.test(fs.readFileSync(path.join(ROOT, f), 'utf8')));
    expect(classes).toEqual([]);
  });

  test('only src/db imports the generated Prisma client', () => {
    expect(edges((from, to) => isPrismaClient(to) && !inside(from, 'src/db'))).toEqual([]);
  });

  test('src/db is reached from modules, jobs and the composition root only', () => {
    const requestScope = (from: string, to: string) => to === 'src/db/scope.ts' && inside(from, 'src/gateway');
    expect(edges((from, to) => isDb(to) && !inside(from, 'src/modules', 'src/db', 'src/jobs') && !(from in DB_OUTSIDE_MODULES) && !requestScope(from, to))).toEqual([]);
    // What the transports may import carries no data access of its own.
    expect(importsOf('src/db/scope.ts').filter((e) => e.to.startsWith('src/') || e.to.startsWith('@prisma/'))).toEqual([]);
    for (const file of Object.keys(DB_OUTSIDE_MODULES)) expect(SRC).toContain(file); // a stale allowance fails here
  });

  test('resolvers use src/db for types only (resolver → service → Prisma)', () => {
    expect(edges((from, to, typeOnly) => /resolvers\.ts$/.test(from) && inside(from, 'src/modules') && isDb(to) && !typeOnly)).toEqual([]);
  });

  test('the graph sees the arrows it checks', () => {
    // Guards the checker: were parsing or resolution broken, every rule above would pass vacuously.
    expect(importsOf('src/modules/datasets/service.ts').some((e) => e.to === 'src/db/client.ts')).toBe(true);
    expect(importsOf('src/db/client.ts').some((e) => isPrismaClient(e.to))).toBe(true);
    expect(importsOf('src/modules/datasets/resolvers.ts').some((e) => isDb(e.to) && e.typeOnly)).toBe(true);
  });
});
