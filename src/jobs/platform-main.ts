// Entry of platform jobs (`node dist/src/jobs/platform-main.js process-version|build-space <specKey>`): the background work of
// the platform that runs as dispatched container jobs instead of inside the gateway (DATASET_PROCESSING=job). The
// same image as the trainer; one copy per array index. It gets the object store's settings (PRETEXT_JOB_STORAGE;
// in the cloud the job role supplies credentials) and its copy index from the dispatcher, never a database URL.
import { arrayIndexFromEnv } from './array-index';
import { specKey, storageFromEnv, type PlatformJobSpec } from './platform/spec';
import { runBuildSpace } from './platform/build-space';
import { runProcessVersion } from './platform/process-version';
import { createObjectStore } from '../storage';
import { readObjectJson } from '../storage/read-object';

// Where the gateway writes specs: a job cannot be pointed at a spec outside a dataset version's or a space's prefix.
const SPEC_KEY = /^tenants\/([^/]+)\/(?:datasets\/[^/]+\/versions\/[^/]+|spaces\/[^/]+)\/job\/spec\.json$/;

export async function runPlatformJob(argv: string[], env: NodeJS.ProcessEnv): Promise<string> {
  const [kind, key] = argv;
  if ((kind !== 'process-version' && kind !== 'build-space') || !key) throw new Error('usage: platform-main process-version|build-space <specKey>');
  const tenant = key.includes('..') ? null : SPEC_KEY.exec(key)?.[1];
  if (!tenant) throw new Error(`not a job spec key: ${key}`);
  const part = arrayIndexFromEnv(env);
  const store = createObjectStore(storageFromEnv(env), { signingSecret: 'platform-job-never-signs', publicUrl: () => 'http://127.0.0.1' });
  const spec = await readObjectJson<PlatformJobSpec>(store, key);
  if (spec.formatVersion !== 1 || spec.kind !== kind || specKey(spec.keyPrefix) !== key) throw new Error(`spec ${key} does not describe this job`);
  // Everything the spec names to read or write lies in the same tenant's prefix as the spec itself.
  const own = (k: string) => k.startsWith(`tenants/${tenant}/`) && !k.includes('..');
  if (spec.kind === 'process-version') {
    if (!spec.files.every((f) => own(f.key))) throw new Error(`spec ${key} names a file outside its tenant`);
    const result = await runProcessVersion(store, spec, part);
    return `part ${part.index + 1}/${part.count} of version ${spec.versionId}: ${result.units.length} unit(s), ${result.stats.rows} row(s), ${result.shards.length} shard(s), ${result.problems.length} problem(s)`;
  }
  if (![spec.manifestKey, spec.model.onnxKey, ...(spec.model.tokenizerKey ? [spec.model.tokenizerKey] : [])].every(own)) throw new Error(`spec ${key} names an object outside its tenant`);
  const piece = await runBuildSpace(store, spec, part);
  return `piece ${part.index + 1}/${part.count} of space ${spec.spaceId}: ${piece.rows.length} row(s)`;
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
