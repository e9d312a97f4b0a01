// `pretext serve`: the whole platform in one process on the configured (or embedded) database and store.
import type { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('serve')
    .description('Run the Pretext gateway (embedded PGlite + local object store unless DATABASE_URL / S3_BUCKET are set)')
    .option('--port <port>', 'port to listen on (default: PORT or 4000)')
    .option('--host <host>', 'interface to bind (default: HOST or 127.0.0.1)')
    .action(async (opts: { port?: string; host?: string }) => {
      // Loaded here, not at the top: the rest of the CLI must start without the gateway's dependencies.
      const { loadConfig } = await import('../../config');
      const { startHttpServer } = await import('../../gateway/http');
      const { createPlatform } = await import('../../platform');
      // The whole platform in one process: the queue worker, local dispatcher and supervisor run here too.
      const config = loadConfig({ RUN_WORKER: 'true', ...process.env, ...(opts.port ? { PORT: opts.port } : {}), ...(opts.host ? { HOST: opts.host } : {}) });
      const platform = await createPlatform(config, { generateOperatorKey: true });
      const server = await startHttpServer(platform, { port: config.port, host: config.host });
      const lines = [
        `Pretext ${config.database.kind === 'embedded' ? '(embedded PGlite' : '(Postgres'}, ${config.storage.kind === 'local' ? 'local object store)' : 'S3)'}`,
        `  GraphQL:  ${server.url}/graphql`,
        `  Console:  ${server.url}/console/`,
        `  Health:   ${server.url}/healthz   Ready: ${server.url}/readyz   Metrics: ${server.url}/metrics`,
      ];
      if (platform.generatedOperatorKey) {
        lines.push(
          '',
          '  Platform operator key (shown once; only its hash is kept in ' + config.dataDir + '):',
          `    ${platform.generatedOperatorKey}`,
          '  Create a tenant:',
          `    PRETEXT_URL=${server.url} PRETEXT_API_KEY=<operator key> npx pretext tenant create acme`,
        );
      }
      process.stdout.write(`${lines.join('\n')}\n`);
      let stopping = false;
      const stop = async (signal: string) => {
        if (stopping) return;
        stopping = true;
        platform.log.info({ signal }, 'shutting down');
        await server.close();
        await platform.close();
        process.exit(0);
      };
      process.on('SIGINT', () => void stop('SIGINT'));
      process.on('SIGTERM', () => void stop('SIGTERM'));
    });
}
