// The one adapter over AWS Secrets Manager: where the deployed stack keeps the database credentials (infra/database.ts
// generates them into a secret; infra/gateway.ts passes only its ARN, DATABASE_SECRET_ARN, so the password never sits
// in the Lambda configuration). At cold start the Lambda handlers turn the ARN into DATABASE_URL before the
// configuration is read; everywhere else DATABASE_URL is given directly and this file does nothing.
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
export function databaseUrlFromSecret(secretString: string, arn: string): string {
  let s: RdsSecret;
  try {
    s = JSON.parse(secretString) as RdsSecret;
  } catch {
    throw new DatabaseSecretError(`DATABASE_SECRET_ARN ${arn}: the secret is not JSON (expected an RDS secret: username, password, host, port, dbname)`);
  }
  const missing = (['username', 'password', 'host', 'dbname'] as const).filter((k) => typeof s[k] !== 'string' || s[k] === '');
  if (missing.length) throw new DatabaseSecretError(`DATABASE_SECRET_ARN ${arn}: the secret has no ${missing.join(', ')}`);
  const port = s.port === undefined ? 5432 : Number(s.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new DatabaseSecretError(`DATABASE_SECRET_ARN ${arn}: port is not a TCP port`);
  const enc = encodeURIComponent;
  return `postgresql://${enc(s.username as string)}:${enc(s.password as string)}@${s.host as string}:${port}/${enc(s.dbname as string)}`;
}

/**
 * `env` with DATABASE_URL filled in from DATABASE_SECRET_ARN when only the ARN is set (an explicit DATABASE_URL
 * wins). `client` is the SDK client config (region and credentials default to the Lambda's; tests point `endpoint`
 * at a loopback server).
 */
export async function withDatabaseSecret(env: NodeJS.ProcessEnv, client: SecretsManagerClientConfig = {}): Promise<NodeJS.ProcessEnv> {
  const arn = env.DATABASE_SECRET_ARN;
  if (!arn || env.DATABASE_URL) return env;
  const sm = new SecretsManagerClient(client);
  try {
    const out = await sm.send(new GetSecretValueCommand({ SecretId: arn }));
    if (!out.SecretString) throw new DatabaseSecretError(`DATABASE_SECRET_ARN ${arn}: the secret has no SecretString`);
    return { ...env, DATABASE_URL: databaseUrlFromSecret(out.SecretString, arn) };
  } catch (err) {
    if (err instanceof DatabaseSecretError) throw err;
    throw new DatabaseSecretError(`DATABASE_SECRET_ARN ${arn}: could not read the secret (${(err as Error).name}: ${(err as Error).message})`);
  } finally {
    sm.destroy();
  }
}
