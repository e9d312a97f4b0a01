// The one-way architecture, checked on the import graph (tests/architecture/import-graph.ts). The README's
// architecture sketch shows these same layers:
//
//   gateway → modules → { db, storage, jobs, ingest, models, inference, contracts }
//   training (the trainer container) → { contracts, models, ingest }      inference → { contracts, models, ingest }
//   contracts → { models/spec, ingest/types }  (pure data: zod, no engine, no control plane)
//   models, ingest → neither side
//
// A failure names the offending chain of files, shortest first.
import { filesUnder, findPath } from './import-graph';

interface Rule {
  name: string;
  from: string[];
  forbidden: (to: string) => boolean;
  /** Follow only imports that load code (type-only imports are erased). */
  runtimeOnly: boolean;
}

const under = (...dirs: string[]) => (to: string) => dirs.some((d) => to === `${d}.ts` || to.startsWith(`${d}/`));
const tfjs = (to: string) => to.startsWith('@tensorflow/');

export const RULES: Rule[] = [
  { name: 'training/ never imports modules/, gateway/ or db/', from: ['src/training'], forbidden: under('src/modules', 'src/gateway', 'src/db', 'src/platform'), runtimeOnly: false },
  { name: 'inference/ never imports training/', from: ['src/inference'], forbidden: under('src/training'), runtimeOnly: false },
  {
    name: 'contracts/ imports nothing of either side',
    from: ['src/contracts'],
    forbidden: under('src/gateway', 'src/modules', 'src/db', 'src/training', 'src/inference', 'src/jobs', 'src/storage', 'src/platform'),
    runtimeOnly: false,
  },
  {
    name: 'models/ and ingest/ (shared by both sides) import neither side',
    from: ['src/models', 'src/ingest'],
    forbidden: under('src/training', 'src/inference', 'src/modules', 'src/gateway', 'src/db'),
    runtimeOnly: false,
  },
  { name: 'modules/ and gateway/ never load TensorFlow.js', from: ['src/modules', 'src/gateway'], forbidden: tfjs, runtimeOnly: true },
  { name: 'contracts/ and inference/ never load TensorFlow.js', from: ['src/contracts', 'src/inference'], forbidden: tfjs, runtimeOnly: true },
];

/** Every violation of a rule: `file: a → b → …` (empty when the rule holds). */
export function violations(rule: Rule): string[] {
  const out: string[] = [];
  for (const dir of rule.from) {
    for (const file of filesUnder(dir)) {
      const chain = findPath(file, rule.forbidden, { runtimeOnly: rule.runtimeOnly });
      if (chain) out.push(chain.join(' → '));
    }
  }
  return out;
}

describe('architecture: imports point one way', () => {
  test.each(RULES.map((r) => [r.name, r] as const))('%s', (_name, rule) => {
    expect(violations(rule)).toEqual([]);
  });

  test('the graph sees the arrows it checks (a known chain is found)', () => {
    // Guards the checker itself: if parsing or resolution broke, every rule above would pass vacuously.
    expect(findPath('src/training/trainer/train.ts', tfjs, { runtimeOnly: true })).not.toBeNull();
    const chain = findPath('src/modules/runs/trainer.ts', under('src/contracts'), { runtimeOnly: false });
    expect(chain?.[0]).toBe('src/modules/runs/trainer.ts');
    expect(chain?.length).toBe(2);
    expect(chain?.[1]).toMatch(/^src\/contracts\//);
  });
});
