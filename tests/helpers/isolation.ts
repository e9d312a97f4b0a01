// The tenant-isolation harness. Given an operation aimed at a resource owned by tenant A, it proves that every key
// of tenant B (ADMIN, MEMBER, READER) is refused with NOT_FOUND or FORBIDDEN, that no field of the resource leaks
// into the response, and that nothing changed (a snapshot of A's state taken before and after is identical).
// As a control, A's own key must succeed, so a case cannot pass by being broken.
import { codes, type GqlResponse, type SeededTenant, type TestPlatform } from './platform';

export interface IsolationCase<F = unknown> {
  /** The Query/Mutation field under test, e.g. `Mutation.revokeApiKey`. */
  field: string;
  /** Creates A's resource; returns whatever `variables`/`snapshot`/`secrets` need. */
  setup(t: TestPlatform, owner: SeededTenant): Promise<F>;
  query: string;
  variables(f: F): Record<string, unknown>;
  /** A's observable state the operation could change (rows read straight from the database or store). */
  snapshot(t: TestPlatform, f: F): Promise<unknown>;
  /** Strings that must never appear in a foreign response (ids, names, contents of A's resource). */
  secrets(f: F): string[];
  /** Which of A's keys runs the control call (defaults to ADMIN). */
  ownerRole?: keyof SeededTenant['keys'];
  /**
   * 'error' (default): the foreign call must fail with NOT_FOUND/FORBIDDEN.
   * 'filtered': list-style operations; the foreign call may succeed but must not contain A's secrets.
   */
  expect?: 'error' | 'filtered';
  /** Sends the operation some other way than a JSON GraphQL request (e.g. a multipart upload). */
  send?(t: TestPlatform, key: string, f: F): Promise<GqlResponse>;
}

export async function assertIsolated<F>(t: TestPlatform, c: IsolationCase<F>): Promise<void> {
  const owner = await t.seedTenant('own');
  const foreign = await t.seedTenant('foreign');
  const fixture = await c.setup(t, owner);
  const vars = c.variables(fixture);
  const before = JSON.stringify(await c.snapshot(t, fixture));

  for (const role of ['ADMIN', 'MEMBER', 'READER'] as const) {
    const res: GqlResponse = c.send ? await c.send(t, foreign.keys[role], fixture) : await t.exec(c.query, vars, { key: foreign.keys[role] });
    const text = JSON.stringify(res.body);
    if ((c.expect ?? 'error') === 'error') {
      const got = codes(res);
      if (got.length === 0 || !got.every((x) => x === 'NOT_FOUND' || x === 'FORBIDDEN')) {
        throw new Error(`${c.field}: tenant B's ${role} key got ${JSON.stringify(res.body)} instead of NOT_FOUND/FORBIDDEN`);
      }
    }
    for (const s of c.secrets(fixture)) {
      if (text.includes(s)) throw new Error(`${c.field}: tenant B's ${role} key saw "${s}" in ${text}`);
    }
  }
  const after = JSON.stringify(await c.snapshot(t, fixture));
  if (after !== before) throw new Error(`${c.field}: tenant A's state changed after foreign calls:\n before ${before}\n after  ${after}`);

  const ownerKey = owner.keys[c.ownerRole ?? 'ADMIN'];
  const control = c.send ? await c.send(t, ownerKey, fixture) : await t.exec(c.query, vars, { key: ownerKey });
  if (control.body.errors?.length) throw new Error(`${c.field}: control call by the owner failed: ${JSON.stringify(control.body.errors)}`);
  if ((c.expect ?? 'error') === 'filtered') {
    const text = JSON.stringify(control.body);
    if (!c.secrets(fixture).some((s) => text.includes(s))) throw new Error(`${c.field}: control call by the owner did not see its own resource`);
  }
}
