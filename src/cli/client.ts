// A small GraphQL-over-HTTP client for the CLI, configured by PRETEXT_URL and PRETEXT_API_KEY.
export class CliError extends Error {
  constructor(message: string, readonly code?: string) {
    super(message);
    this.name = 'CliError';
  }
}

export interface ClientOptions { url: string; apiKey?: string }

export function clientOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): ClientOptions {
  const url = (env.PRETEXT_URL ?? 'http://127.0.0.1:4000').replace(/\/$/, '');
  return { url, ...(env.PRETEXT_API_KEY ? { apiKey: env.PRETEXT_API_KEY } : {}) };
}

export async function gql<T>(opts: ClientOptions, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`${opts.url}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(opts.apiKey ? { authorization: `Bearer ${opts.apiKey}` } : {}),
      },
      body: JSON.stringify({ query, variables }),
    });
  } catch (err) {
    throw new CliError(`Cannot reach Pretext at ${opts.url} (${(err as Error).message}). Is it running? Set PRETEXT_URL.`);
  }
  const body = (await res.json().catch(() => null)) as { data?: T; errors?: Array<{ message: string; extensions?: { code?: string } }> } | null;
  if (!body) throw new CliError(`Unexpected HTTP ${res.status} from ${opts.url}/graphql`);
  if (body.errors?.length) {
    const e = body.errors[0]!;
    throw new CliError(`${e.extensions?.code ?? 'ERROR'}: ${e.message}`, e.extensions?.code);
  }
  return body.data as T;
}
