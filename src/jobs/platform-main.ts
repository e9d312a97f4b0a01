// Entry of platform jobs (`node dist/src/jobs/platform-main.js process-version <specKey>`): the background work of
// the platform that runs as dispatched container jobs instead of inside the gateway (DATASET_PROCESSING=job). The
// same image as the trainer; one copy per array index. It gets the object store's settings (PRETEXT_JOB_STORAGE;
// in the cloud the job role supplies credentials) and its copy index from the dispatcher, never a database URL.
import { arrayIndexFromEnv } from './array-index';
import { specKey, storageFromEnv, type PlatformJobSpec } from './platform/spec';
import { runProcessVersion } from './platform/process-version';
import { createObjectStore } from '../storage';

async function readJson(store: ReturnType<typeof createObjectStore>, key: string): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of await store.get(key)) chunks.push(Buffer.from(c as Buffer));
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

export async function runPlatformJob(argv: string[], env: NodeJS.ProcessEnv): Promise<string> {
  const [kind, key] = argv;
  if (kind !== 'process-version' || !key) throw new Error('usage: platform-main process-version <specKey>');
  // The spec must sit where the gateway writes specs: a job cannot be pointed at another version's or tenant's files.
  if (!/^tenants\/[^/]+\/datasets\/[^/]+\/versions\/[^/]+\/job\/spec\.json$/.test(key) || key.includes('..')) throw new Error(`not a job spec key: ${key}`);
  const part = arrayIndexFromEnv(env);
  const store = createObjectStore(storageFromEnv(env), { signingSecret: 'platform-job-never-signs', publicUrl: () => 'http://127.0.0.1' });
  const spec = (await readJson(store, key)) as PlatformJobSpec;
  if (spec.formatVersion !== 1 || spec.kind !== 'process-version' || specKey(spec.keyPrefix) !== key) throw new Error(`spec ${key} does not describe this job`);
  const result = await runProcessVersion(store, spec, part);
  return `part ${part.index + 1}/${part.count} of version ${spec.versionId}: ${result.units.length} unit(s), ${result.stats.rows} row(s), ${result.shards.length} shard(s), ${result.problems.length} problem(s)`;
}

if (require.main === module) {
  runPlatformJob(process.argv.slice(2), process.env).then(
    (line) => process.stdout.write(`${line}\n`),
    (err: unknown) => {
      process.stderr.write(`platform job failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
