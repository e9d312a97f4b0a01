// `pretext models list|show|alias`, `pretext embed`, `pretext similar`.
import fs from 'node:fs';
import type { Command } from 'commander';
import { CliError, clientOptionsFromEnv, gql } from '../client';
import { headlineScore as headlineOf } from '../../models/headline';
import { print, table } from '../output';
import { decodeEmbedding, packFloat32, packPixels, type EmbeddingLike } from '../../client/vectors';

/**
 * One embed input from the command line: text as is, `@file.png` as an image, `@file.json` as a sequence. With
 * `packed`, images are decoded here (to their own size) and sent as raw pixels, sequences as a float32 tensor: the
 * server then decodes nothing but base64.
 */
async function parseInput(arg: string, packed = false): Promise<Record<string, unknown>> {
  if (!arg.startsWith('@')) return { text: arg };
  const file = arg.slice(1);
  if (!fs.existsSync(file)) throw new CliError(`No such file: ${file}`);
  if (/\.json$/i.test(file)) {
    const sequence = JSON.parse(fs.readFileSync(file, 'utf8')) as number[][];
    if (!packed) return { sequence };
    return { tensor: packFloat32(sequence.flat(), [sequence.length, sequence[0]?.length ?? 0]) };
  }
  if (/\.(png|jpe?g)$/i.test(file)) {
    if (!packed) return { image: fs.readFileSync(file).toString('base64') };
    const { default: sharp } = await import('sharp');
    const { data, info } = await sharp(file).raw().toBuffer({ resolveWithObject: true });
    return { pixels: packPixels(new Uint8Array(data.buffer, data.byteOffset, data.length), [info.height, info.width, info.channels]) };
  }
  return { text: fs.readFileSync(file, 'utf8') };
}

/** The first values of an embedding for the terminal, whatever its encoding. */
function preview(e: EmbeddingLike & { bytes?: number[] | null }): string {
  if (e.encoding === 'BINARY') return e.base64 ?? JSON.stringify(e.bytes);
  const v = decodeEmbedding(e);
  return `[${Array.from(v.subarray(0, 8), (x) => x.toFixed(4)).join(', ')}${v.length > 8 ? ', …' : ''}]`;
}

export function register(program: Command): void {
  const models = program.command('models').description('The model registry');
  models
    .command('list')
    .option('--json', 'machine-readable output')
    .action(async (o: { json?: boolean }) => {
      const data = await gql<{ models: Array<Record<string, any>> }>(clientOptionsFromEnv(), `{ models { id name modality createdAt versions { version } aliases { alias version { version } } } }`);
      const rows = data.models.map((m) => ({
        ...m,
        versions: m.versions.length,
        aliases: m.aliases.map((a: { alias: string; version: { version: number } }) => `${a.alias}→v${a.version.version}`).join(' '),
      }));
      print(!!o.json, data.models, () => table(rows, ['id', 'name', 'modality', 'versions', 'aliases', 'createdAt']));
    });
  models
    .command('show <modelId>')
    .option('--json', 'machine-readable output')
    .action(async (id: string, o: { json?: boolean }) => {
      const data = await gql<{ model: Record<string, any> }>(
        clientOptionsFromEnv(),
        `query($id: ID!) { model(id: $id) { id name modality versions { id version embeddingDim runId parentVersionId head aliases evaluation createdAt } } }`,
        { id },
      );
      const m = data.model;
      const versionOf = new Map((m.versions as Array<{ id: string; version: number }>).map((v) => [v.id, v.version]));
      const row = (v: Record<string, any>) => {
        const score = headlineOf(v.evaluation);
        return {
          ...v,
          aliases: (v.aliases as string[]).join(' '),
          head: v.head ? `${v.head.task} ${v.head.mode ?? ''}`.trim() : 'encoder',
          parent: v.parentVersionId ? `v${versionOf.get(v.parentVersionId) ?? '?'}` : '',
          score: score ? `${score.metric} ${(score.metric === 'rmse' ? -score.value : score.value).toFixed(4)}` : '',
        };
      };
      print(!!o.json, m, () => [`${m.name} (${m.id}) ${m.modality}`, table(m.versions.map(row), ['version', 'id', 'head', 'parent', 'score', 'aliases', 'createdAt'])].join('\n'));
    });
  models
    .command('alias <modelId> <alias> <versionId>')
    .option('--force', 'promote even if the version scores worse than the current target')
    .option('--json', 'machine-readable output')
    .action(async (modelId: string, alias: string, versionId: string, o: { force?: boolean; json?: boolean }) => {
      const data = await gql<{ setModelAlias: { alias: string; version: { version: number } } }>(
        clientOptionsFromEnv(),
        `mutation($i: SetModelAliasInput!) { setModelAlias(input: $i) { alias version { id version } updatedAt } }`,
        { i: { modelId, alias, versionId, force: !!o.force } },
      );
      print(!!o.json, data.setModelAlias, () => `${alias} → version ${data.setModelAlias.version.version}`);
    });

  program
    .command('embed <model> <inputs...>')
    .description('Embed inputs: plain text, @image.png, @sequence.json (time steps × features) or @file.txt')
    .option('--dimensions <n>', 'Matryoshka truncation')
    .option('--encoding <encoding>', 'FLOAT, BASE64, INT8 or BINARY (base64: packed float32, the cheapest response)', 'FLOAT')
    .option('--packed', 'decode images here and send raw pixels; send sequences as float32 tensors')
    .option('--truncate <mode>', 'NONE, START or END', 'NONE')
    .option('--no-normalize', 'skip L2 normalization')
    .option('--json', 'machine-readable output')
    .action(async (model: string, inputs: string[], o: { dimensions?: string; encoding: string; truncate: string; normalize: boolean; packed?: boolean; json?: boolean }) => {
      const data = await gql<{ embed: Record<string, any> }>(
        clientOptionsFromEnv(),
        `query($m: String!, $i: [EmbedInput!]!, $o: EmbedOptions) { embed(model: $m, inputs: $i, options: $o) { dims embeddingSpace modelVersion { id version } embeddings { index encoding values base64 scale bytes } } }`,
        {
          m: model,
          i: await Promise.all(inputs.map((arg) => parseInput(arg, !!o.packed))),
          o: { encoding: o.encoding.toUpperCase(), truncate: o.truncate.toUpperCase(), normalize: o.normalize, ...(o.dimensions ? { dimensions: Number(o.dimensions) } : {}) },
        },
      );
      print(!!o.json, data.embed, () =>
        data.embed.embeddings.map((e: EmbeddingLike & { index: number }) => `${e.index}: ${preview(e)}`).join('\n'),
      );
    });

  program
    .command('similar <model> <datasetVersionId> <query>')
    .description('Nearest rows of an embedded dataset version (see createEmbeddingSpace) to a query (text, @image.png, @sequence.json)')
    .option('-k <k>', 'neighbours', '10')
    .option('--json', 'machine-readable output')
    .action(async (model: string, datasetVersionId: string, query: string, o: { k: string; json?: boolean }) => {
      const data = await gql<{ similar: { neighbors: Array<Record<string, unknown>> } }>(
        clientOptionsFromEnv(),
        `query($i: SimilarInput!) { similar(input: $i) { embeddingSpace neighbors { row score label split } } }`,
        { i: { model, datasetVersionId, query: await parseInput(query), k: Number(o.k) } },
      );
      print(!!o.json, data.similar, () => table(data.similar.neighbors, ['row', 'score', 'label', 'split']));
    });

  program
    .command('predict <model> <inputs...>')
    .description('Predictions of a fine-tuned model: plain text, @image.png, @sequence.json or @file.txt')
    .option('--top-k <k>', 'classes listed per input', '5')
    .option('--truncate <mode>', 'NONE, START or END', 'NONE')
    .option('--packed', 'decode images here and send raw pixels; send sequences as float32 tensors')
    .option('--json', 'machine-readable output')
    .action(async (model: string, inputs: string[], o: { topK: string; truncate: string; packed?: boolean; json?: boolean }) => {
      const data = await gql<{ predict: Record<string, any> }>(
        clientOptionsFromEnv(),
        `query($m: String!, $i: [EmbedInput!]!, $k: Int, $t: Truncate) { predict(model: $m, inputs: $i, topK: $k, truncate: $t) { task labels modelVersion { id version } predictions { index label probabilities top { label probability } values } } }`,
        { m: model, i: await Promise.all(inputs.map((arg) => parseInput(arg, !!o.packed))), k: Number(o.topK), t: o.truncate.toUpperCase() },
      );
      print(!!o.json, data.predict, () =>
        data.predict.predictions
          .map((p: Record<string, any>) =>
            data.predict.task === 'CLASSIFICATION'
              ? `${p.index}: ${p.label} (${(p.top as Array<{ label: string; probability: number }>).map((x) => `${x.label} ${x.probability.toFixed(3)}`).join(', ')})`
              : `${p.index}: ${(p.values as number[]).map((v) => v.toFixed(4)).join(', ')}`,
          )
          .join('\n'),
      );
    });

  program
    .command('eval <model>')
    .description("Show a model version's evaluation report (held-out split); <model> is a version id or name[@alias|@vN]")
    .option('--json', 'machine-readable output')
    .action(async (id: string, o: { json?: boolean }) => {
      const data = await gql<{ modelVersion: { id: string; version: number; evaluation: Record<string, unknown> | null; model: { name: string } } }>(
        clientOptionsFromEnv(),
        `query($id: ID!) { modelVersion(id: $id) { id version evaluation model { name } } }`,
        { id },
      );
      const v = data.modelVersion;
      if (!v.evaluation && !o.json) throw new CliError(`${v.model.name} v${v.version} has no evaluation report`);
      print(!!o.json, { modelVersionId: v.id, model: v.model.name, version: v.version, evaluation: v.evaluation }, () =>
        [
          `${v.model.name} v${v.version}${typeof v.evaluation?.split === 'string' ? ` (${v.evaluation.split} split)` : ''}`,
          ...Object.entries(v.evaluation ?? {}).filter(([, x]) => typeof x === 'number').map(([k, x]) => `  ${k}: ${Number.isInteger(x) ? x : (x as number).toFixed(4)}`),
          ...confusionTable(v.evaluation),
        ].join('\n'),
      );
    });
}

/** The confusion matrix as text (rows: actual, columns: predicted), when the report has one of a readable size. */
function confusionTable(e: Record<string, unknown> | null): string[] {
  const m = e?.confusionMatrix as number[][] | undefined;
  const labels = e?.labels as string[] | undefined;
  if (!Array.isArray(m) || !Array.isArray(labels) || labels.length > 20) return [];
  const w = Math.max(6, ...labels.map((l) => l.length), ...m.flat().map((x) => String(x).length)) + 1;
  return [
    '  confusion (rows actual, columns predicted):',
    `  ${''.padStart(w)}${labels.map((l) => l.padStart(w)).join('')}`,
    ...m.map((row, i) => `  ${labels[i]!.padStart(w)}${row.map((x) => String(x).padStart(w)).join('')}`),
  ];
}
