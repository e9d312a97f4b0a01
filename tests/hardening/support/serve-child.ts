// The real `pretext serve` entry (the CLI's main), run as its own process by the crash tests so that it can be
// killed with SIGKILL: no shutdown hook runs, exactly as when a host dies or the OOM killer strikes.
import { main } from '../../../src/cli/main';

main(['node', 'pretext', 'serve']).catch((err: unknown) => {
  process.stderr.write(`serve-child: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
