#!/usr/bin/env node
// Entry for the `pretext` command. Runs the compiled CLI (npm start / npm run build produce dist/).
const path = require('node:path');
const fs = require('node:fs');
const entry = path.join(__dirname, '..', 'dist', 'src', 'cli', 'main.js');
// The platform treats an unset NODE_ENV as production (src/config.ts); libraries that read it once at load must
// agree before they load: graphql-js, for one, checks every instanceOf across module copies outside production,
// which costs each GraphQL request a few microseconds (docs/serving.md section 8).
if (!process.env.NODE_ENV) process.env.NODE_ENV = 'production';
if (!fs.existsSync(entry)) {
  process.stderr.write('pretext: not built yet. Run `npm run build` (or `npm start`) first.\n');
  process.exit(1);
}
require(entry)
  .main(process.argv)
  .catch((err) => {
    process.stderr.write(`pretext: ${err && err.stack ? err.stack : err}\n`);
    process.exit(1);
  });
