// The runtime login role (README "Security"): the gateway's role when migrations run with separate owner
// credentials (DATABASE_MIGRATION_URL). It is a member of the group role pretext_runtime (migration
// 20261211000000_runtime_role), which reaches pretext_app and pretext_operator, and it owns nothing: an owner could
// ALTER TABLE … NO FORCE / DISABLE ROW LEVEL SECURITY, DROP POLICY or DROP TABLE, which is what row-level security
// must survive.
import { Client } from 'pg';
import { migrate } from './migrate';
import { APP_ROLE, OPERATOR_ROLE } from './rls';

export const RUNTIME_GROUP_ROLE = 'pretext_runtime';

/** Plain lower-case names only, so the role reads the same in SQL, URLs and pg_hba.conf without quoting. */
const ROLE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

interface RoleFacts {
  rolsuper: boolean;
  rolbypassrls: boolean;
  rolcreaterole: boolean;
  rolcreatedb: boolean;
  app: boolean;
  operator: boolean;
  owners: string[] | null;
  schema_owner: boolean;
  can_create: boolean;
}

/**
 * What makes `role` (default: the connected role) unfit to be the runtime role of this database; [] = fit. Owning
 * a table, or being a member of a role that does (SET ROLE), or owning the schema (its owner may drop what is in
 * it), is each enough to undo row-level security.
 */
export async function runtimeRoleProblems(client: Client, role?: string): Promise<string[]> {
  const { rows } = await client.query<RoleFacts>(
    `SELECT r.rolsuper, r.rolbypassrls, r.rolcreaterole, r.rolcreatedb,
            pg_has_role(r.oid, '${APP_ROLE}', 'USAGE') AS app,
            pg_has_role(r.oid, '${OPERATOR_ROLE}', 'USAGE') AS operator,
            (SELECT array_agg(DISTINCT pg_get_userbyid(c.relowner)::text ORDER BY pg_get_userbyid(c.relowner)::text)
               FROM pg_class c WHERE c.relnamespace = n.oid AND pg_has_role(r.oid, c.relowner, 'MEMBER')) AS owners,
            pg_has_role(r.oid, n.nspowner, 'MEMBER') AS schema_owner,
            has_schema_privilege(r.oid, n.oid, 'CREATE') AS can_create
       FROM pg_roles r, pg_namespace n
      WHERE r.rolname = COALESCE($1, current_user) AND n.nspname = 'public'`,
    [role ?? null],
  );
  const f = rows[0];
  if (!f) return [`role ${role ?? '(current)'} does not exist`];
  const problems: string[] = [];
  if (f.rolsuper) problems.push('is a superuser');
  if (f.rolbypassrls) problems.push('has BYPASSRLS');
  if (f.rolcreaterole) problems.push('has CREATEROLE');
  if (f.rolcreatedb) problems.push('has CREATEDB');
  if (!f.rolsuper) {
    if (f.owners?.length) problems.push(`owns, or is a member of the owner of, tables in schema public (owner: ${f.owners.join(', ')})`);
    if (f.schema_owner) problems.push('owns, or is a member of the owner of, schema public (the database owner owns it since Postgres 15)');
    if (f.can_create) problems.push('may CREATE in schema public (before Postgres 15 everyone may: REVOKE CREATE ON SCHEMA public FROM PUBLIC)');
    if (!f.app || !f.operator) problems.push(`is not a member of ${RUNTIME_GROUP_ROLE} (GRANT ${RUNTIME_GROUP_ROLE} TO the role)`);
  }
  return problems;
}

export interface RuntimeRole {
  name: string;
  /** Unset: a role without a password (certificate, IAM or peer authentication); an existing one keeps its password. */
  password?: string;
}

/**
 * Migrates the database with the owner URL (which creates pretext_runtime), then creates the LOGIN role `name` as a
 * member of pretext_runtime, or, when it exists, sets its password and membership. Idempotent. Throws, naming
 * what is wrong, when the role would not be a safe runtime role (e.g. an existing role that owns the tables).
 * Needs a connection that may create roles: a superuser, or CREATEROLE with ADMIN OPTION on pretext_runtime.
 */
export async function createRuntimeRole(ownerUrl: string, role: RuntimeRole): Promise<{ created: boolean }> {
  if (!ROLE_NAME.test(role.name)) throw new Error(`Not a role name (lower-case letters, digits, _; at most 63): ${role.name}`);
  await migrate(ownerUrl);
  const client = new Client({ connectionString: ownerUrl });
  await client.connect();
  try {
    // Many cold starts may run this at once (DATABASE_ENSURE_RUNTIME_ROLE): concurrent CREATE / ALTER ROLE of one role
    // fail ("already exists", "tuple concurrently updated"), so they take turns. The lock ends with the session.
    await client.query('SELECT pg_advisory_lock(hashtext($1))', [`pretext:runtime-role:${role.name}`]);
    const name = client.escapeIdentifier(role.name);
    const password = role.password === undefined ? '' : ` PASSWORD ${client.escapeLiteral(role.password)}`;
    const exists = ((await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role.name])).rowCount ?? 0) > 0;
    if (!exists) {
      // Every attribute spelled out: the defaults are the same, but this is the statement an auditor reads.
      await client.query(`CREATE ROLE ${name} LOGIN${password} NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS NOREPLICATION INHERIT IN ROLE ${RUNTIME_GROUP_ROLE}`);
    } else {
      // Attributes of an existing role are checked below, not changed: altering SUPERUSER or BYPASSRLS at all needs
      // a superuser, and silently demoting a role someone else uses is not this command's call.
      await client.query(`ALTER ROLE ${name} WITH LOGIN${password}`);
      const member = await client.query<{ m: boolean }>(`SELECT pg_has_role($1, '${RUNTIME_GROUP_ROLE}', 'MEMBER') AS m`, [role.name]);
      if (!member.rows[0]?.m) await client.query(`GRANT ${RUNTIME_GROUP_ROLE} TO ${name}`);
    }
    const problems = await runtimeRoleProblems(client, role.name);
    if (problems.length) throw new Error(`Role ${role.name} is not safe as the runtime role: it ${problems.join('; ')}`);
    return { created: !exists };
  } finally {
    await client.end();
  }
}

/** Refuses to run as the runtime role a role that could undo row-level security (DATABASE_MIGRATION_URL is set). */
export async function assertRuntimeRole(url: string): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const problems = await runtimeRoleProblems(client);
    if (problems.length) {
      const { rows } = await client.query<{ u: string }>('SELECT current_user AS u');
      throw new Error(`DATABASE_MIGRATION_URL is set, so DATABASE_URL must connect as a runtime role that owns nothing, but ${rows[0]?.u} ${problems.join('; ')} (README "Security": pretext db create-runtime-role)`);
    }
  } finally {
    await client.end();
  }
}
