// FINETUNE task: the base version's weights (and tokenizer / normalization) + a labeled dataset version → a head
// (and, in FULL mode, an updated encoder) → one ONNX graph with `embedding` and `logits` / `predictions` outputs,
// the weights file, and an evaluation report on the held-out split: the head's own metrics plus a linear probe and
// kNN on the fine-tuned backbone. Like PRETRAIN runs, the MLP_HEAD / FULL loop checkpoints into the run's prefix
// (hyperparameters.checkpointEvery) and a re-dispatched attempt resumes from the last checkpoint.
import { embeddingDim } from '../../models/spec';
import { fineTuneIncompatibility, type StoredInputSpec } from '../../models/stored-spec';
import { decodeWeights, encodeWeights } from '../../models/weights-file';
import type { CompletionReport, HeadReport } from '../../contracts/trainer-wire';
import type { TaskContext } from './context';
import { encoderReport } from './evaluation-report';
import { download, upload } from './gateway-client';
import { GatewayCheckpointStore } from './checkpoint-store';
import type { CheckpointStore } from '../trainer/checkpoint';
import { resolveHyperparameters } from '../../contracts/finetune';

function permanent(err: Error): Error {
  return Object.assign(err, { retryable: false });
}

/** The store's own failures (object store, gateway) are marked retryable, so they are not taken for a bad spec. */
function retryableStore(store: CheckpointStore): CheckpointStore {
  const mark = (err: unknown): never => {
    throw Object.assign(err as Error, { retryable: true });
  };
  return { save: (c) => store.save(c).catch(mark), latest: () => store.latest().catch(mark) };
}

export async function runFineTuneTask(ctx: TaskContext): Promise<CompletionReport> {
  const { api, rows } = ctx;
  const ft = ctx.spec.finetune;
  if (!ft) throw new Error('The FINETUNE spec has no fine-tune settings');
  const stored = ft.base.inputSpec as StoredInputSpec;
  const modality = ctx.manifest.shape.modality;
  const why = fineTuneIncompatibility(stored, modality);
  if (why) throw permanent(new Error(`Base version ${ft.base.modelVersionId} cannot be fine-tuned on ${modality} rows: ${why}`));

  const weights = decodeWeights(await download(ft.base.weightsUrl));
  const { TextTokenizer } = await import('../tokenizer/textTokenizer');
  const tokenizer = ft.base.tokenizerUrl ? TextTokenizer.fromJSON((await download(ft.base.tokenizerUrl)).toString('utf8')) : undefined;
  const normalization = stored.preprocess?.normalization;
  const pipeline = { ...(tokenizer ? { tokenizer } : {}), ...(normalization ? { normalization } : {}) };
  // Loaded here, not at the top: tfjs start-up is the slow part, and a bad spec should fail before it.
  const { fineTune } = await import('../finetune');
  const { fineTuneWithSelfTraining } = await import('../finetune/self-training');
  const train = resolveHyperparameters(ft.hyperparameters).selfTraining ? fineTuneWithSelfTraining : fineTune;
  const { buildEncoderModel } = await import('../finetune/tokenSequenceModel');
  const { exportOnnx } = await import('../../models/onnx');

  ctx.log('info', `fine-tuning version ${ft.base.modelVersionId}: ${ft.task} ${ft.mode}, labelFraction ${ft.labelFraction}, ${rows.length} rows`);
  await ctx.heartbeat(0, 1, true);
  // fineTune is seeded and checks its inputs first: whatever it throws (too few labels or classes, non-numeric
  // regression targets, a diverging loss) would be thrown again by a retry.
  const result = await train({
    base: { spec: stored.spec, weights },
    rows,
    task: ft.task,
    mode: ft.mode,
    labelFraction: ft.labelFraction,
    hyperparameters: ft.hyperparameters,
    seed: ft.seed,
    pipeline,
    ...(ft.backend ? { backend: ft.backend } : {}),
    onLog: (m) => ctx.log('info', m),
    onStep: async (step, total, loss) => {
      ctx.metric({ step, name: 'loss', value: loss });
      await ctx.heartbeat(step, total, step === total);
    },
    checkpoints: {
      store: retryableStore(new GatewayCheckpointStore(api, ctx.spec.checkpoint, () => ctx.flushMetrics())),
      every: resolveHyperparameters(ft.hyperparameters).checkpointEvery,
      onSave: (step) => ctx.log('info', `checkpoint at step ${step}`),
    },
  }).catch((err: unknown) => {
    // Checkpoint uploads and progress reports talk to the gateway: their failures are worth another attempt.
    throw (err as { retryable?: boolean }).retryable === true ? err : permanent(err as Error);
  });
  await ctx.flushMetrics();
  ctx.log('info', `fine-tuned on ${result.trainSize} labeled rows in ${result.steps} steps (${result.seconds.toFixed(1)} s)`);

  // The backbone's probe and kNN train on the same labeled rows the fine-tune was allowed to see.
  const model = buildEncoderModel(result.spec, { seed: ft.seed });
  let probe: Record<string, unknown> | null;
  try {
    model.setWeights(result.weights, { strict: true });
    probe = await encoderReport(model, result.labeledRows, rows, {
      task: ft.task,
      pipeline,
      ...(result.labels ? { labels: result.labels } : {}),
      seed: ft.seed,
      log: (m) => ctx.log('info', m),
    });
  } finally {
    model.dispose();
  }
  const evaluation = result.evaluation
    ? {
        ...result.evaluation,
        split: probe?.split ?? null,
        trainSize: result.trainSize,
        ...(probe && ft.task === 'CLASSIFICATION'
          ? { linearProbeAccuracy: probe.linearProbeAccuracy, knnAccuracy: probe.knnAccuracy, k: probe.k, probe: { macroF1: probe.macroF1, trainSize: probe.trainSize } }
          : {}),
        ...(probe && ft.task === 'REGRESSION' ? { probe: { rmse: probe.rmse, mae: probe.mae, r2: probe.r2, trainSize: probe.trainSize } } : {}),
      }
    : null;
  if (!evaluation) ctx.log('warn', 'No evaluation report: the dataset has no labeled test or validation rows.');

  const onnxKey = await upload(api, 'model/model.onnx', exportOnnx(result.spec, result.weights, { includeHead: true }));
  const weightsKey = await upload(api, 'model/weights.bin', encodeWeights(result.weights));
  // The tokenizer is copied into this run's prefix so the version stands on its own.
  const tokenizerKey = tokenizer ? await upload(api, 'model/tokenizer.json', Buffer.from(tokenizer.toJSON())) : null;
  const head = result.spec.head;
  const headReport: HeadReport =
    ft.task === 'CLASSIFICATION'
      ? { task: 'CLASSIFICATION', labels: result.labels!, trainSize: result.trainSize }
      : { task: 'REGRESSION', outputs: head?.kind === 'regressor' ? head.outputDim : 1, trainSize: result.trainSize };
  await ctx.flushLogs();
  return {
    onnxKey,
    weightsKey,
    tokenizerKey,
    inputSpec: { spec: result.spec, preprocess: stored.preprocess ?? { modality } } as never,
    embeddingDim: embeddingDim(result.spec),
    evaluation: evaluation as never,
    head: headReport,
  };
}
