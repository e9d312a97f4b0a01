// The bad-input corpus: hand-made hostile files (hostile-files.ts) through the real upload → finalize → process
// path, and property-based GraphQL requests (fast-check): random and deeply nested documents, oversized inputs
// arrays, and wrong-type variables for every argument of every mutation in schema.graphql. For each case: a typed
// error, /healthz still answers, and row and object counts are unchanged (for a rejected file: nothing besides the
// stored upload itself, no shards). Prints how many cases ran.
import { buildSchema, isEnumType, isInputObjectType, isListType, isNonNullType, isScalarType, type GraphQLInputType } from 'graphql';
import fc from 'fast-check';
import { loadTypeDefs } from '../../src/gateway/apollo';
import { createDataset, createVersion, finalize, settledVersion, uploadFile } from '../helpers/datasets-api';
import { codes, startTestPlatform, type SeededTenant, type TestPlatform } from '../helpers/platform';
import { hostileFiles } from './hostile-files';

const TYPED = new Set(['BAD_USER_INPUT', 'GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'NOT_FOUND', 'FORBIDDEN', 'UNAUTHENTICATED', 'CONFLICT', 'QUOTA_EXCEEDED', 'BAD_REQUEST']);

describe('bad-input corpus', () => {
  let t: TestPlatform;
  let acme: SeededTenant;
  let cases = 0;
  const failures: string[] = [];

  beforeAll(async () => {
    t = await startTestPlatform('http', { RATE_LIMIT_REQUESTS_PER_MINUTE: '0', RATE_LIMIT_INFERENCE_INPUTS_PER_MINUTE: '0' });
    acme = await t.seedTenant('corpus');
  }, 120_000);
  afterAll(async () => {
    // eslint-disable-next-line no-console
    console.log(`bad-input corpus: ${cases} cases ran, ${failures.length} failed${failures.length ? `:\n${failures.join('\n')}` : ''}`);
    await t?.close();
  });

  /**
   * The corpus tenant's rows in every tenant-owned table of the public schema (and its own tenants row). Scoped to the
   * tenant because other test files write to the same database at the same time; the corpus only ever calls with
   * this tenant's keys, so anything it half-wrote would carry its tenant id.
   */
  async function rowCounts(): Promise<Record<string, number>> {
    const prisma = t.platform.db.prisma;
    const tables = await prisma.$queryRaw<Array<{ table_name: string }>>`
      SELECT DISTINCT table_name FROM information_schema.columns
      WHERE table_schema = 'public' AND column_name = 'tenant_id' ORDER BY table_name`;
    const out: Record<string, number> = {};
    for (const { table_name } of tables) {
      const [row] = await prisma.$queryRawUnsafe<Array<{ n: bigint }>>(`SELECT count(*)::bigint AS n FROM "${table_name}" WHERE tenant_id::text = $1`, acme.id);
      out[table_name] = Number(row!.n);
    }
    const [own] = await prisma.$queryRawUnsafe<Array<{ n: bigint }>>(`SELECT count(*)::bigint AS n FROM tenants WHERE id::text = $1`, acme.id);
    out.tenants = Number(own!.n);
    return out;
  }
  async function objectCount(prefix = 'tenants/'): Promise<number> {
    let n = 0;
    for await (const _ of t.platform.store.list(prefix)) n++;
    return n;
  }
  async function healthy(): Promise<boolean> {
    const res = await fetch(`${t.url}/healthz`);
    return res.status === 200 && ((await res.json()) as { status: string }).status === 'ok';
  }

  test('hostile files: each upload is refused or its version FAILS with problems; nothing else is written', async () => {
    const files = await hostileFiles();
    for (const f of files) {
      const datasetId = await createDataset(t, acme.keys.MEMBER, f.modality);
      const versionId = await createVersion(t, acme.keys.MEMBER, datasetId, f.shape ?? {});
      const rowsBefore = await rowCounts();
      const objectsBefore = await objectCount();
      cases++;
      const up = await uploadFile(t, acme.keys.MEMBER, versionId, f.name, f.content);
      let outcome: string;
      let uploaded = 0;
      if (up.body.errors?.length) {
        outcome = `upload ${codes(up).join(',')}`;
        if (!codes(up).every((c) => TYPED.has(c))) failures.push(`${f.name}: upload answered ${JSON.stringify(up.body.errors)}`);
      } else {
        uploaded = 1;
        const fin = await finalize(t, acme.keys.MEMBER, versionId);
        const v = await settledVersion(t, acme.keys.MEMBER, versionId);
        outcome = fin.body.errors?.length ? `finalize ${codes(fin).join(',')}` : `version ${v.status}`;
        if (fin.body.errors?.length) {
          if (!codes(fin).every((c) => TYPED.has(c))) failures.push(`${f.name}: finalize answered ${JSON.stringify(fin.body.errors)}`);
        } else if (v.status !== 'FAILED' || !(v.error?.problems?.length > 0) || v.error.problems.some((p: { code: string }) => !p.code)) {
          failures.push(`${f.name}: version ${v.status} (error ${JSON.stringify(v.error)})`);
        }
        const shards = await objectCount(`tenants/${acme.id}/datasets/${datasetId}/versions/${versionId}/shards`);
        if (shards !== 0) failures.push(`${f.name}: ${shards} shard objects left behind`);
      }
      const rowsAfter = await rowCounts();
      const expected = { ...rowsBefore, ...(uploaded ? { dataset_files: rowsBefore.dataset_files! + 1, usage_records: rowsAfter.usage_records!, audit_events: rowsAfter.audit_events! } : {}) };
      if (JSON.stringify(rowsAfter) !== JSON.stringify(expected)) failures.push(`${f.name} (${outcome}): rows ${JSON.stringify(rowsBefore)} → ${JSON.stringify(rowsAfter)}`);
      const objectsAfter = await objectCount();
      if (objectsAfter > objectsBefore + uploaded) failures.push(`${f.name} (${outcome}): objects ${objectsBefore} → ${objectsAfter}`);
      if (!(await healthy())) failures.push(`${f.name}: /healthz did not answer`);
    }
    expect(failures).toEqual([]);
  }, 600_000);

  test('GraphQL: random documents, deep nesting, huge inputs arrays and wrong-type variables on every mutation', async () => {
    const rowsBefore = await rowCounts();
    const objectsBefore = await objectCount();
    const schema = buildSchema(loadTypeDefs());
    const check = async (label: string, query: string, variables: Record<string, unknown>, key?: string) => {
      cases++;
      const res = await t.exec(query, variables, key ? { key } : {});
      const cs = codes(res);
      if (res.status >= 500 || cs.length === 0 || !cs.every((c) => TYPED.has(c)) || (res.body.data && Object.values(res.body.data).some((v) => v !== null))) {
        failures.push(`${label}: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
      }
    };

    // Random text as a document.
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 200 }), async (s) => {
        await check(`random document ${JSON.stringify(s)}`, s, {}, acme.keys.READER);
      }),
      { numRuns: 60, seed: 14 },
    );
    // Nesting past the depth limits, through fields, introspection and fragments.
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 16, max: 120 }), fc.constantFrom('schema', 'type', 'viewer'), async (depth, kind) => {
        const inner = `${'ofType { '.repeat(depth)}name${' }'.repeat(depth)}`;
        const q = kind === 'schema' ? `{ __schema { types { ${inner} } } }` : kind === 'type' ? `{ __type(name: "Query") { ${inner} } }` : `{ viewer { ${'tenant { '.repeat(depth)}id${' }'.repeat(depth)} } }`;
        await check(`depth ${depth} ${kind}`, q, {});
      }),
      { numRuns: 30, seed: 14 },
    );
    // Inputs arrays over the per-request maximum (with and without a real model name).
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 2049, max: 20_000 }), fc.constantFrom('embed', 'predict'), async (n, op) => {
        await check(`${op} with ${n} inputs`, `query($i: [EmbedInput!]!) { ${op}(model: "nope", inputs: $i) { __typename } }`, { i: Array.from({ length: n }, () => ({ text: 'x' })) }, acme.keys.READER);
      }),
      { numRuns: 8, seed: 14 },
    );

    // Wrong-type variables: for every mutation argument, a value of a JSON type its GraphQL type cannot accept.
    const wrongFor = (type: GraphQLInputType): fc.Arbitrary<unknown> => {
      const inner = isNonNullType(type) ? type.ofType : type;
      if (isListType(inner)) return fc.oneof(fc.integer(), fc.string(), fc.constant({ not: 'a list' }).map((o) => ({ ...o })));
      if (isInputObjectType(inner)) return fc.oneof(fc.integer(), fc.string(), fc.array(fc.integer(), { maxLength: 3 }), fc.constant({ definitelyNotAField: 1 }));
      if (isEnumType(inner)) return fc.oneof(fc.constant('NOT_A_MEMBER'), fc.integer(), fc.constant({ x: 1 }));
      if (isScalarType(inner)) {
        switch (inner.name) {
          case 'Int':
            return fc.oneof(fc.string({ minLength: 1 }).filter((s) => !/^-?\d+$/.test(s)), fc.double({ min: 0.1, max: 0.9 }), fc.constant(2 ** 40), fc.constant([1]), fc.constant(true));
          case 'Float':
            return fc.oneof(fc.string({ minLength: 1 }).filter((s) => Number.isNaN(Number(s))), fc.constant({ n: 1 }), fc.constant(true));
          case 'Boolean':
            return fc.oneof(fc.integer(), fc.string(), fc.constant({}));
          case 'Upload':
            return fc.oneof(fc.integer(), fc.string(), fc.constant({ fake: 'upload' }));
          case 'JSON':
            // Any JSON is a JSON value; a required one can still be null.
            return fc.constant(null);
          case 'DateTime':
            return fc.oneof(fc.string().filter((s) => Number.isNaN(Date.parse(s))), fc.constant({ at: 1 }), fc.constant(true));
          case 'BigInt':
            return fc.oneof(fc.string({ minLength: 1 }).filter((s) => !/^-?\d+$/.test(s.trim())), fc.double({ min: 0.1, max: 0.9 }), fc.constant({}), fc.constant(true));
          default:
            return fc.oneof(fc.integer(), fc.constant({ o: 1 }), fc.constant([1, 2]), fc.constant(true));
        }
      }
      return fc.constant(null);
    };
    const mutations = Object.values(schema.getMutationType()!.getFields());
    let mutationCases = 0;
    for (const m of mutations) {
      for (const arg of m.args) {
        const argDefs = m.args.map((a) => `$${a.name}: ${a.type.toString()}`).join(', ');
        const call = m.args.map((a) => `${a.name}: $${a.name}`).join(', ');
        const q = `mutation(${argDefs}) { ${m.name}(${call}) { __typename } }`;
        await fc.assert(
          fc.asyncProperty(wrongFor(arg.type), async (bad) => {
            if (bad === null && !isNonNullType(arg.type)) return;
            mutationCases++;
            await check(`${m.name}(${arg.name}: ${JSON.stringify(bad)?.slice(0, 80)})`, q, { [arg.name]: bad }, acme.keys.ADMIN);
          }),
          { numRuns: 3, seed: 14 },
        );
      }
    }
    expect(mutationCases).toBeGreaterThan(mutations.length);
    expect(await healthy()).toBe(true);
    expect(await rowCounts()).toEqual({ ...rowsBefore, rate_buckets: (await rowCounts()).rate_buckets });
    expect(await objectCount()).toBe(objectsBefore);
    expect(failures).toEqual([]);
  }, 600_000);
});
