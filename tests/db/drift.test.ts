// Schema drift: the migrated database (real PGlite/Postgres, via our migration runner) must match
// prisma/schema.prisma exactly — same tables, columns, types, nullability and enum values. Fails when someone
// edits schema.prisma without writing the migration, or the other way round.
import fs from 'node:fs';
import path from 'node:path';
import { getDMMF } from '@prisma/internals';
import { Client } from 'pg';
import { openDatabase, type Database } from '../../src/db';
import { PROJECT_ROOT } from '../../src/version';
import { testDatabaseConfig } from '../helpers/db';

interface Col { table: string; column: string; type: string; nullable: boolean }

const SCALAR_TYPES: Record<string, string> = {
  String: 'text',
  Int: 'integer',
  BigInt: 'bigint',
  Float: 'double precision',
  Boolean: 'boolean',
  DateTime: 'timestamp(3) without time zone',
  Json: 'jsonb',
  Decimal: 'numeric(65,30)',
  Bytes: 'bytea',
};

function nativeType(name: string, args: string[]): string {
  switch (name) {
    case 'Uuid':
      return 'uuid';
    case 'Timestamptz':
      return `timestamp(${args[0] ?? 6}) with time zone`;
    case 'Timestamp':
      return `timestamp(${args[0] ?? 6}) without time zone`;
    case 'VarChar':
      return args[0] ? `character varying(${args[0]})` : 'character varying';
    case 'Text':
      return 'text';
    case 'Integer':
      return 'integer';
    case 'BigInt':
      return 'bigint';
    case 'DoublePrecision':
      return 'double precision';
    case 'Real':
      return 'real';
    case 'JsonB':
      return 'jsonb';
    default:
      throw new Error(`drift test: add a mapping for native type @db.${name}`);
  }
}

async function expectedFromSchema(): Promise<{ columns: Col[]; enums: Record<string, string[]> }> {
  const dmmf = await getDMMF({ datamodel: fs.readFileSync(path.join(PROJECT_ROOT, 'prisma', 'schema.prisma'), 'utf8') });
  const enumNames = new Map(dmmf.datamodel.enums.map((e) => [e.name, e.dbName ?? e.name]));
  const columns: Col[] = [];
  for (const m of dmmf.datamodel.models) {
    for (const f of m.fields) {
      if (f.kind === 'object' || f.kind === 'unsupported') continue;
      let type =
        f.kind === 'enum'
          ? enumNames.get(f.type)!
          : f.nativeType
            ? nativeType(f.nativeType[0], f.nativeType[1] as string[])
            : SCALAR_TYPES[f.type] ?? `unmapped:${f.type}`;
      if (f.isList) type += '[]';
      columns.push({ table: m.dbName ?? m.name, column: f.dbName ?? f.name, type, nullable: !f.isRequired && !f.isList });
    }
  }
  const enums = Object.fromEntries(dmmf.datamodel.enums.map((e) => [e.dbName ?? e.name, e.values.map((v) => v.dbName ?? v.name)]));
  return { columns, enums };
}

async function actualFromDatabase(url: string): Promise<{ columns: Col[]; enums: Record<string, string[]> }> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    const cols = await c.query<{ table: string; column: string; type: string; nullable: boolean }>(`
      SELECT cl.relname AS table, a.attname AS column, format_type(a.atttypid, a.atttypmod) AS type, NOT a.attnotnull AS nullable
      FROM pg_attribute a
      JOIN pg_class cl ON cl.oid = a.attrelid
      JOIN pg_namespace n ON n.oid = cl.relnamespace
      WHERE n.nspname = 'public' AND cl.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped AND cl.relname <> '_prisma_migrations'`);
    const en = await c.query<{ name: string; value: string }>(`
      SELECT t.typname AS name, e.enumlabel AS value FROM pg_type t
      JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace
      WHERE n.nspname = 'public' ORDER BY t.typname, e.enumsortorder`);
    const enums: Record<string, string[]> = {};
    for (const r of en.rows) (enums[r.name] ??= []).push(r.value);
    // format_type quotes mixed-case enum names; Prisma's DMMF does not.
    return { columns: cols.rows.map((r) => ({ ...r, type: r.type.replace(/"/g, '') })), enums };
  } finally {
    await c.end();
  }
}

const byKey = (cols: Col[]) => [...cols].sort((a, b) => `${a.table}.${a.column}`.localeCompare(`${b.table}.${b.column}`));

describe('schema drift', () => {
  let db: Database;
  beforeAll(async () => {
    db = await openDatabase(testDatabaseConfig());
  });
  afterAll(async () => {
    await db?.close();
  });

  test('the migrated database matches schema.prisma (tables, columns, types, nullability, enums)', async () => {
    const expected = await expectedFromSchema();
    const actual = await actualFromDatabase(db.url);
    expect(byKey(actual.columns)).toEqual(byKey(expected.columns));
    expect(actual.enums).toEqual(expected.enums);
  });

  test('the drift check notices a difference', async () => {
    const expected = await expectedFromSchema();
    const tampered = expected.columns.map((c, i) => (i === 0 ? { ...c, nullable: !c.nullable } : c));
    const actual = await actualFromDatabase(db.url);
    expect(byKey(actual.columns)).not.toEqual(byKey(tampered));
  });
});
