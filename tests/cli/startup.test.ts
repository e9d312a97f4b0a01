// The CLI starts at once: a command loads only its own module, so `--help` and GraphQL-only commands never read
// TensorFlow.js, ONNX Runtime, Prisma, Apollo or the AWS SDK. Start-up time itself is measured by
// `pretext bench cli`, never asserted here.
import net from 'node:net';
import { Command, Help } from 'commander';
import { buildProgram, COMMANDS } from '../../src/cli/main';
import { loadedModulesAfter, packagesOf, projectFilesOf } from '../helpers/loaded-modules';

const HEAVY = /^(@tensorflow\/|onnxruntime-|@prisma\/|@apollo\/|@aws-sdk\/|@electric-sql\/|sharp$|apache-arrow$|zod$|pino$|tokenizers$)/;

async function refusedUrl(): Promise<string> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise<void>((r) => srv.close(() => r()));
  return `http://127.0.0.1:${port}`;
}

describe('CLI start-up', () => {
  test('the help-only stubs say exactly what the real registrations say', () => {
    // Top-level help of the lazy program (only `models` loaded) equals the fully loaded program's.
    expect(buildProgram(['node', 'pretext', 'models', 'list']).helpInformation()).toBe(buildProgram().helpInformation());
    expect(buildProgram(['node', 'pretext', '--help']).helpInformation()).toBe(buildProgram().helpInformation());
    for (const entry of COMMANDS) {
      const p = new Command('pretext');
      entry.load().register(p);
      expect(p.commands.map((c) => [new Help().subcommandTerm(c), c.description()])).toEqual(entry.commands.map((c) => [c.term, c.description]));
    }
  });

  test('`pretext help <command>` and a command name load that command fully', () => {
    const runs = buildProgram(['node', 'pretext', 'help', 'runs']).commands.find((c) => c.name() === 'runs')!;
    expect(runs.commands.map((c) => c.name())).toEqual(['list', 'show', 'watch', 'cancel']);
    const stub = buildProgram(['node', 'pretext', 'models', 'list']).commands.find((c) => c.name() === 'runs')!;
    expect(stub.commands).toHaveLength(0);
  });

  test('`pretext --help` loads the CLI core only', async () => {
    const files = await loadedModulesAfter(`
      process.stdout.write = () => true;
      await require(root + '/src/cli/main').main(['node', 'pretext', '--help']);`);
    expect(projectFilesOf(files)).toEqual(['src/cli/client.ts', 'src/cli/main.ts', 'src/version.ts']);
    expect(packagesOf(files)).toEqual(['commander']);
  });

  test('`pretext models list` and `pretext train` (server mode) load no ML runtime, database or server code', async () => {
    const url = await refusedUrl();
    for (const args of [['models', 'list', '--json'], ['train', '--dataset-version', 'v', '--pretext', 'masked', '--encoder', 'mlp'], ['runs', 'list']]) {
      const files = await loadedModulesAfter(`
        process.stderr.write = () => true;
        await require(root + '/src/cli/main').main(${JSON.stringify(['node', 'pretext', ...args])});
        if (process.exitCode !== 1) throw new Error('expected the refused connection to fail the command');`, { PRETEXT_URL: url, PRETEXT_API_KEY: 'pt_x_y' });
      expect(packagesOf(files).filter((p) => HEAVY.test(p))).toEqual([]);
      expect(projectFilesOf(files).filter((f) => !f.startsWith('src/cli/') && f !== 'src/version.ts' && f !== 'src/models/headline.ts' && f !== 'src/client/vectors.ts')).toEqual([]);
    }
  }, 180_000); // three child processes
});
