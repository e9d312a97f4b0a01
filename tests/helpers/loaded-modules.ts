// Runs a snippet in a fresh Node process (TypeScript through tsx's CommonJS hook, as the compiled CLI would load
// the same files) and returns every module file that process loaded, from its own require.cache. A jest worker
// cannot answer that question about itself: jest keeps its own module registry and has loaded half the world.
import { execFile } from 'node:child_process';
import path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');
const MARK = '@@loaded-modules@@';

/**
 * `body` is the inside of an async function that may use `require` (paths relative to the project root work as
 * `require(root + '/src/…')`, with `root` in scope). The modules loaded when it returns are reported.
 */
export function loadedModulesAfter(body: string, env: NodeJS.ProcessEnv = {}): Promise<string[]> {
  // The report goes through the original stdout writer: the body may silence process.stdout.write.
  const script = `const root = ${JSON.stringify(ROOT)}; const report = process.stdout.write.bind(process.stdout);
(async () => { ${body} })().then(
  () => { report('\\n${MARK}' + JSON.stringify(Object.keys(require.cache)) + '\\n'); process.exit(0); },
  (e) => { process.stderr.write(String(e && e.stack || e)); process.exit(1); });`;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--require', 'tsx/cjs', '-e', script], { cwd: ROOT, env: { ...process.env, ...env }, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const line = stdout.split('\n').find((l) => l.startsWith(MARK));
      if (err || !line) return reject(new Error(`child failed: ${err?.message ?? 'no report'}\n${stderr}`));
      resolve(JSON.parse(line.slice(MARK.length)) as string[]);
    });
  });
}

// tsx's own loader packages: present in the child only because it runs TypeScript.
const LOADER = new Set(['tsx', 'esbuild', 'get-tsconfig', 'resolve-pkg-maps']);

/** The npm packages among loaded files (scoped names kept whole, tsx's loader left out), e.g. ['commander']. */
export function packagesOf(files: string[]): string[] {
  const names = new Set<string>();
  for (const f of files) {
    const i = f.lastIndexOf(`node_modules${path.sep}`);
    if (i < 0) continue;
    const parts = f.slice(i + 'node_modules/'.length).split(path.sep);
    names.add(parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!);
  }
  return [...names].filter((n) => !LOADER.has(n)).sort();
}

/** Project files (relative to the root) among loaded files. */
export function projectFilesOf(files: string[]): string[] {
  return files.filter((f) => f.startsWith(ROOT + path.sep) && !f.includes(`node_modules${path.sep}`)).map((f) => path.relative(ROOT, f)).sort();
}
