// The one adapter over AWS Secrets Manager: where the deployed stack keeps the database credentials (infra/database.ts
// generates the owner's and the runtime role's into secrets; infra/gateway.ts passes only their ARNs, so no password
// sits in the Lambda configuration). At cold start the Lambda handlers turn the ARNs into DATABASE_URL and
// DATABASE_MIGRATION_URL before the configuration is read; everywhere else the URLs are given directly and this file
// does nothing.
import { GetSecretValueCommand, SecretsManagerClient, type SecretsManagerClientConfig } from '@aws-sdk/client-secrets-manager';

/** The fields of an RDS / Aurora generated secret this needs (the secret holds more, e.g. engine, dbClusterIdentifier). */
interface RdsSecret {
  username?: unknown;
  password?: unknown;
  host?: unknown;
  port?: unknown;
  dbname?: unknown;
}

export class DatabaseSecretError extends Error {
  override readonly name = 'DatabaseSecretError';
}

/** postgresql://user:password@host:port/dbname from an RDS secret's JSON (user and password percent-encoded). */
export function databaseUrlFromSecret(secretString: string, arn: string, arnVar = 'DATABASE_SECRET_ARN'): string {
  let s: RdsSecret;
  try {
    s = JSON.parse(secretString) as RdsSecret;
  } catch {
    throw new DatabaseSecretError(`${arnVar} ${arn}: the secret is not JSON (expected an RDS secret: username, password, host, port, dbname)`);
  }
  const missing = (['username', 'password', 'host', 'dbname'] as const).filter((k) => typeof s[k] !== 'string' || s[k] === '');
  if (missing.length) throw new DatabaseSecretError(`${arnVar} ${arn}: the secret has no ${missing.join(', ')}`);
  const port = s.port === undefined ? 5432 : Number(s.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new DatabaseSecretError(`${arnVar} ${arn}: port is not a TCP port`);
  const enc = encodeURIComponent;
  return `postgresql://${enc(s.username as string)}:${enc(s.password as string)}@${s.host as string}:${port}/${enc(s.dbname as string)}`;
}

/** Which secret fills which URL: the runtime role's, and the owner's for migrations (infra/gateway.ts sets both). */
const PAIRS = [
  ['DATABASE_SECRET_ARN', 'DATABASE_URL'],
  ['DATABASE_MIGRATION_SECRET_ARN', 'DATABASE_MIGRATION_URL'],
] as const;

/**
 * `env` with DATABASE_URL filled in from DATABASE_SECRET_ARN, and DATABASE_MIGRATION_URL from
 * DATABASE_MIGRATION_SECRET_ARN, where only the ARN is set (an explicit URL wins). `client` is the SDK client config
 * (region and credentials default to the Lambda's; tests point `endpoint` at a loopback server).
 */
export async function withDatabaseSecret(env: NodeJS.ProcessEnv, client: SecretsManagerClientConfig = {}): Promise<NodeJS.ProcessEnv> {
  const wanted = PAIRS.filter(([arnVar, urlVar]) => env[arnVar] && !env[urlVar]);
  if (wanted.length === 0) return env;
  const sm = new SecretsManagerClient(client);
  try {
    const out = { ...env };
    for (const [arnVar, urlVar] of wanted) out[urlVar] = await readUrl(sm, arnVar, env[arnVar]!);
    return out;
  } finally {
    sm.destroy();
  }
}

async function readUrl(sm: SecretsManagerClient, arnVar: string, arn: string): Promise<string> {
  try {
    const out = await sm.send(new GetSecretValueCommand({ SecretId: arn }));
    if (!out.SecretString) throw new DatabaseSecretError(`${arnVar} ${arn}: the secret has no SecretString`);
    return databaseUrlFromSecret(out.SecretString, arn, arnVar);
  } catch (err) {
    if (err instanceof DatabaseSecretError) throw err;
    throw new DatabaseSecretError(`${arnVar} ${arn}: could not read the secret (${(err as Error).name}: ${(err as Error).message})`);
  }
}
