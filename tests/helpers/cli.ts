// Runs the real `pretext` command-line program in-process against a test server and captures its stdout.
import { buildProgram } from '../../src/cli/main';

export async function runCli(url: string, key: string | undefined, ...args: string[]): Promise<string> {
  const saved = { url: process.env.PRETEXT_URL, key: process.env.PRETEXT_API_KEY };
  process.env.PRETEXT_URL = url;
  if (key) process.env.PRETEXT_API_KEY = key;
  else delete process.env.PRETEXT_API_KEY;
  const out: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out.push(String(chunk));
    return true;
  });
  try {
    await buildProgram().parseAsync(['node', 'pretext', ...args]);
  } finally {
    spy.mockRestore();
    for (const [name, value] of [['PRETEXT_URL', saved.url], ['PRETEXT_API_KEY', saved.key]] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
  return out.join('');
}
