// `pretext dataset create|upload|list|show`. `upload` picks the path by size: a GraphQL multipart request for
// small files, presigned multipart parts (resumable) for large ones, with a progress bar on stderr.
import fs from 'node:fs';
import path from 'node:path';
import { SingleBar, Presets } from 'cli-progress';
import type { Command } from 'commander';
import { CliError, clientOptionsFromEnv, gql, type ClientOptions } from '../client';
import { print, table } from '../output';

const MODALITIES = ['TEXT', 'IMAGE', 'SEQUENCE'];
const VERSION_FIELDS = `id version status shape
  files { name bytes status }
  stats { rows bytes splits { train validation test } labels labelHistogram { label count } features characters shards }
  error { message truncated problems { file line row entry code message } }`;

/** Files to upload: plain files as given, folders expanded with names relative to the folder (ImageFolder layout). */
export function expandInputs(inputs: string[]): Array<{ path: string; name: string; bytes: number }> {
  const out: Array<{ path: string; name: string; bytes: number }> = [];
  for (const input of inputs) {
    const st = fs.statSync(input);
    if (st.isFile()) {
      out.push({ path: input, name: path.basename(input), bytes: st.size });
      continue;
    }
    const walk = (dir: string) => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
        if (e.name.startsWith('.')) continue;
        const full = path.join(dir, e.name);
        if (e.isDirectory()) walk(full);
        else if (e.isFile()) out.push({ path: full, name: path.relative(input, full).split(path.sep).join('/'), bytes: fs.statSync(full).size });
      }
    };
    walk(input);
  }
  return out;
}

async function uploadSmall(opts: ClientOptions, versionId: string, file: { path: string; name: string }): Promise<void> {
  const form = new FormData();
  form.append(
    'operations',
    JSON.stringify({ query: 'mutation($v: ID!, $f: Upload!, $n: String) { uploadDatasetFile(versionId: $v, file: $f, name: $n) { id } }', variables: { v: versionId, f: null, n: file.name } }),
  );
  form.append('map', JSON.stringify({ 0: ['variables.f'] }));
  form.append('0', new Blob([fs.readFileSync(file.path)]), path.basename(file.path));
  const res = await fetch(`${opts.url}/graphql`, {
    method: 'POST',
    body: form,
    headers: { 'apollo-require-preflight': 'true', ...(opts.apiKey ? { authorization: `Bearer ${opts.apiKey}` } : {}) },
  });
  const body = (await res.json()) as { errors?: Array<{ message: string; extensions?: { code?: string } }> };
  if (body.errors?.length) throw new CliError(`${file.name}: ${body.errors[0]!.extensions?.code}: ${body.errors[0]!.message}`);
}

async function uploadLarge(opts: ClientOptions, versionId: string, file: { path: string; name: string; bytes: number }, bar: SingleBar | null): Promise<void> {
  const start = await gql<{ startMultipartUpload: { file: { id: string }; partSize: number; parts: Array<{ partNumber: number; url: string }> } }>(
    opts,
    `mutation($i: StartMultipartUploadInput!) { startMultipartUpload(input: $i) { file { id } partSize parts { partNumber url } } }`,
    { i: { versionId, name: file.name, bytes: file.bytes } },
  );
  const { file: f, partSize, parts } = start.startMultipartUpload;
  const done: Array<{ partNumber: number; etag: string }> = [];
  const fd = fs.openSync(file.path, 'r');
  try {
    for (const p of parts) {
      const offset = (p.partNumber - 1) * Number(partSize);
      const length = Math.min(Number(partSize), file.bytes - offset);
      const buf = Buffer.alloc(length);
      fs.readSync(fd, buf, 0, length, offset);
      let etag: string | null = null;
      for (let attempt = 1; attempt <= 3 && !etag; attempt++) {
        const res = await fetch(p.url, { method: 'PUT', body: buf }).catch(() => null);
        if (res?.ok) etag = res.headers.get('etag');
      }
      if (!etag) throw new CliError(`${file.name}: part ${p.partNumber} failed after 3 attempts; rerun to resume (file id ${f.id})`);
      done.push({ partNumber: p.partNumber, etag });
      bar?.increment(length);
    }
  } finally {
    fs.closeSync(fd);
  }
  await gql(opts, `mutation($f: ID!, $p: [CompletedPartInput!]!) { completeMultipartUpload(fileId: $f, parts: $p) { id } }`, { f: f.id, p: done });
}

function summary(v: Record<string, any>): string {
  const lines = [`version ${v.version} (${v.id}): ${v.status}`];
  if (v.stats) {
    lines.push(`  rows ${v.stats.rows}  splits train ${v.stats.splits.train} / validation ${v.stats.splits.validation} / test ${v.stats.splits.test}  shards ${v.stats.shards}`);
    if (v.stats.labels.length) lines.push(`  labels ${v.stats.labelHistogram.map((l: { label: string; count: number }) => `${l.label}:${l.count}`).join(' ')}`);
  }
  if (v.error) {
    lines.push(`  error: ${v.error.message}`);
    for (const p of v.error.problems) lines.push(`    ${p.file}${p.entry ? ` › ${p.entry}` : ''}${p.line ? ` line ${p.line}` : ''}${p.row !== null && p.row !== undefined ? ` row ${p.row}` : ''}: ${p.message}`);
  }
  return lines.join('\n');
}

export function register(program: Command): void {
  const dataset = program.command('dataset').description('Create, upload and inspect datasets');

  dataset
    .command('create <name>')
    .requiredOption('--modality <modality>', `one of ${MODALITIES.join(', ')}`)
    .option('--description <text>')
    .option('--json', 'machine-readable output')
    .action(async (name: string, o: { modality: string; description?: string; json?: boolean }) => {
      const modality = o.modality.toUpperCase();
      if (!MODALITIES.includes(modality)) throw new CliError(`Unsupported modality: "${o.modality}". Should be one of: ${MODALITIES.join(', ')}.`);
      const data = await gql<{ createDataset: { id: string; name: string; modality: string } }>(
        clientOptionsFromEnv(),
        `mutation($i: CreateDatasetInput!) { createDataset(input: $i) { id name modality createdAt } }`,
        { i: { name, modality, ...(o.description ? { description: o.description } : {}) } },
      );
      print(!!o.json, data.createDataset, () => `Dataset ${data.createDataset.name} (${data.createDataset.id}), ${data.createDataset.modality}`);
    });

  dataset
    .command('upload <datasetId> <files...>')
    .description('Create a version, upload files or folders (ImageFolder layouts keep their folder names), finalize and wait')
    .option('--version <id>', 'add to an existing UPLOADING version instead of creating one')
    .option('--image <HxWxC>', 'image size for IMAGE datasets, e.g. 28x28x1')
    .option('--sequence <LxF>', 'sequence length x features for SEQUENCE datasets, e.g. 28x28 (L may be "var")')
    .option('--multipart-threshold <bytes>', 'files at least this large use presigned multipart uploads', String(64 * 2 ** 20))
    .option('--no-finalize', 'leave the version UPLOADING')
    .option('--json', 'machine-readable output')
    .action(async (datasetId: string, files: string[], o: { version?: string; image?: string; sequence?: string; multipartThreshold: string; finalize: boolean; json?: boolean }) => {
      const opts = clientOptionsFromEnv();
      const inputs = expandInputs(files);
      if (inputs.length === 0) throw new CliError('No files to upload');
      let versionId = o.version;
      if (!versionId) {
        const shape: Record<string, unknown> = {};
        if (o.image) {
          const m = /^(\d+)x(\d+)x(\d+)$/.exec(o.image);
          if (!m) throw new CliError('--image must look like 28x28x1');
          shape.image = { height: Number(m[1]), width: Number(m[2]), channels: Number(m[3]) };
        }
        if (o.sequence) {
          const m = /^(\d+|var)x(\d+)$/.exec(o.sequence);
          if (!m) throw new CliError('--sequence must look like 28x28 or varx3');
          shape.sequence = { length: m[1] === 'var' ? null : Number(m[1]), features: Number(m[2]) };
        }
        const created = await gql<{ createDatasetVersion: { id: string } }>(
          opts,
          `mutation($i: CreateDatasetVersionInput!) { createDatasetVersion(input: $i) { id } }`,
          { i: { datasetId, ...shape } },
        );
        versionId = created.createDatasetVersion.id;
      }
      const total = inputs.reduce((s, f) => s + f.bytes, 0);
      const bar = process.stderr.isTTY && !o.json ? new SingleBar({ format: 'upload [{bar}] {percentage}% | {value}/{total} bytes | {file}' }, Presets.shades_classic) : null;
      bar?.start(total, 0, { file: '' });
      const threshold = Number(o.multipartThreshold);
      for (const f of inputs) {
        bar?.update({ file: f.name });
        if (f.bytes >= threshold) await uploadLarge(opts, versionId, f, bar);
        else {
          await uploadSmall(opts, versionId, f);
          bar?.increment(f.bytes);
        }
      }
      bar?.stop();
      let version: Record<string, any>;
      if (o.finalize) {
        await gql(opts, `mutation($id: ID!) { finalizeDatasetVersion(id: $id) { id } }`, { id: versionId });
        if (!o.json) process.stderr.write('processing...\n');
        for (;;) {
          version = (await gql<{ datasetVersion: Record<string, any> }>(opts, `query($id: ID!) { datasetVersion(id: $id) { ${VERSION_FIELDS} } }`, { id: versionId })).datasetVersion;
          if (version.status === 'READY' || version.status === 'FAILED') break;
          await new Promise((r) => setTimeout(r, 500)); // polling a remote server: there is no condition to await
        }
      } else {
        version = (await gql<{ datasetVersion: Record<string, any> }>(opts, `query($id: ID!) { datasetVersion(id: $id) { ${VERSION_FIELDS} } }`, { id: versionId })).datasetVersion;
      }
      print(!!o.json, version, () => summary(version));
      if (version.status === 'FAILED') process.exitCode = 2;
    });

  dataset
    .command('list')
    .option('--json', 'machine-readable output')
    .action(async (o: { json?: boolean }) => {
      const data = await gql<{ datasets: { nodes: Array<Record<string, any>> } }>(
        clientOptionsFromEnv(),
        `{ datasets(first: 100) { nodes { id name modality createdAt latestVersion { version status } } } }`,
      );
      const rows = data.datasets.nodes.map((d) => ({ ...d, latest: d.latestVersion ? `v${d.latestVersion.version} ${d.latestVersion.status}` : '-' }));
      print(!!o.json, data.datasets.nodes, () => table(rows, ['id', 'name', 'modality', 'latest', 'createdAt']));
    });

  dataset
    .command('show <datasetId>')
    .option('--json', 'machine-readable output')
    .action(async (id: string, o: { json?: boolean }) => {
      const data = await gql<{ dataset: Record<string, any> }>(
        clientOptionsFromEnv(),
        `query($id: ID!) { dataset(id: $id) { id name modality description createdAt versions { ${VERSION_FIELDS} } } }`,
        { id },
      );
      const d = data.dataset;
      print(!!o.json, d, () => [`${d.name} (${d.id}) ${d.modality}`, ...d.versions.map(summary)].join('\n'));
    });
}
