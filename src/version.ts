// The package version, read once (the gateway reports it; the CLI prints it).
import fs from 'node:fs';
import path from 'node:path';

function findPackageJson(): string {
  let dir = __dirname;
  for (;;) {
    const candidate = path.join(dir, 'package.json');
    if (fs.existsSync(candidate)) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('package.json not found above ' + __dirname);
    dir = parent;
  }
}

export const PROJECT_ROOT = path.dirname(findPackageJson());
export const VERSION: string = (JSON.parse(fs.readFileSync(findPackageJson(), 'utf8')) as { version: string }).version;
