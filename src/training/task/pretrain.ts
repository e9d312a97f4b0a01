// PRETRAIN task: the pretext trainer with callbacks wired to the trainer API, checkpoints in the run's prefix (and
// resume from the last one), then ONNX + weights (+ tokenizer) uploaded and an evaluation report computed on the
// held-out split when the dataset has labels.
import { embeddingDim } from '../../models/spec';
import { encodeWeights } from '../../models/weights-file';
import type { CompletionReport, TrainerSpec } from '../../contracts/trainer-wire';
import { deserializeCheckpoint, serializeCheckpoint, type Checkpoint, type CheckpointStore } from '../trainer/checkpoint';
import type { TrainConfig } from '../trainer/config';
import type { TaskContext } from './context';
import { encoderReport } from './evaluation-report';
import { download, readVersion, upload, type GatewayClient } from './gateway-client';

/** Checkpoints in the run's output prefix, through presigned URLs; the gateway records the latest one. */
class GatewayCheckpointStore implements CheckpointStore {
  constructor(
    private readonly api: GatewayClient,
    private readonly initial: TrainerSpec['checkpoint'],
    /** Runs before the gateway records the checkpoint: metrics up to its step must be stored first, or a crash
     * between the two would lose them (the next attempt resumes after the checkpoint and never re-reports them). */
    private readonly beforeRecord: () => Promise<void>,
  ) {}

  async save(ckpt: Checkpoint): Promise<string> {
    const dir = `checkpoints/step-${String(ckpt.step).padStart(8, '0')}`;
    const { json, tensors } = serializeCheckpoint(ckpt);
    await upload(this.api, `${dir}/tensors.bin`, tensors);
    await upload(this.api, `${dir}/checkpoint.json`, Buffer.from(json));
    await this.beforeRecord();
    await this.api.call('POST', '/checkpoint', { step: ckpt.step, path: dir });
    return dir;
  }

  async latest(): Promise<Checkpoint | null> {
    if (!this.initial) return null;
    return deserializeCheckpoint((await download(this.initial.jsonUrl)).toString('utf8'), await download(this.initial.tensorsUrl));
  }
}

export async function runPretrainTask(ctx: TaskContext): Promise<CompletionReport> {
  const { api, spec, manifest, rows } = ctx;
  if (!spec.train) throw new Error('The PRETRAIN spec has no trainer settings');
  const config = { ...(spec.train as Omit<TrainConfig, 'shape'>), shape: manifest.shape, resume: spec.checkpoint !== null } as TrainConfig;
  // Loaded here, not at the top: tfjs start-up is the slow part, and a bad spec should fail before it.
  const { train } = await import('../trainer/train');
  const { exportOnnx } = await import('../../models/onnx');
  const result = await train(config, {
    data: rows,
    store: new GatewayCheckpointStore(api, spec.checkpoint, () => ctx.flushMetrics()),
    callbacks: {
      onStep: async (m) => {
        ctx.metric({ step: m.step, name: 'loss', value: m.loss, epoch: m.epoch });
        ctx.metric({ step: m.step, name: 'learning_rate', value: m.learningRate });
        await ctx.heartbeat(m.step, m.totalSteps, m.step === m.totalSteps);
      },
      onCheckpoint: async (c) => {
        await ctx.flushMetrics();
        ctx.log('info', `checkpoint at step ${c.step}`);
      },
      onEval: async (e) => {
        ctx.metric({ step: e.step, name: 'knn_accuracy', value: e.knnAccuracy });
      },
      onLog: (level, message) => ctx.log(level, message),
    },
  });
  try {
    await ctx.flushMetrics();
    const weights = result.model.getWeights();
    const onnxKey = await upload(api, 'model/model.onnx', exportOnnx(result.spec, weights));
    const weightsKey = await upload(api, 'model/weights.bin', encodeWeights(weights));
    const tokenizerJson = result.tokenizer?.toJSON();
    const tokenizerKey = tokenizerJson ? await upload(api, 'model/tokenizer.json', Buffer.from(tokenizerJson)) : null;
    const seq = result.spec.input.kind === 'sequence' ? result.spec.input.length : undefined;
    const preprocess = {
      modality: config.modality,
      pretext: config.pretext,
      ...(config.modality === 'TEXT' ? { maxLength: config.maxLength ?? 64 } : {}),
      ...(config.modality === 'SEQUENCE' ? { sequenceLength: seq, normalization: result.normalization } : {}),
      ...(config.modality === 'IMAGE' && result.spec.input.kind === 'sequence' ? { imageAsRows: true } : {}),
    };
    ctx.log('info', `trained ${result.steps} steps (${result.stepsThisRun} this attempt${result.resumedFrom !== null ? `, resumed from ${result.resumedFrom}` : ''}); final loss ${result.finalLoss.toFixed(4)}`);
    // On the labeled evaluation version when the experiment names one, else on the training rows' own labels.
    const evalRows = spec.evaluationSet ? (await readVersion(spec.evaluationSet)).rows : rows;
    const found = await encoderReport(result.model, evalRows.filter((r) => r.split === 'train'), evalRows, {
      pipeline: { ...(result.tokenizer ? { tokenizer: result.tokenizer } : {}), ...(result.normalization ? { normalization: result.normalization } : {}) },
      seed: config.seed ?? 0,
      log: (m) => ctx.log('info', m),
    });
    const report: Record<string, unknown> | null = found ? { ...found, datasetVersionId: spec.evaluationSet?.datasetVersionId ?? spec.datasetVersionId } : null;
    if (report) ctx.log('info', `evaluation on the ${String(report.split)} split: ${JSON.stringify({ linearProbeAccuracy: report.linearProbeAccuracy, knnAccuracy: report.knnAccuracy, r2: report.r2 })}`);
    await ctx.flushLogs();
    // The report when the rows allow one; else the trainer's running kNN check (validation split), if any.
    const evaluation = report ? { ...report, ...(result.evaluation ? { duringTraining: { ...result.evaluation } } : {}) } : result.evaluation ? { ...result.evaluation } : null;
    return { onnxKey, weightsKey, tokenizerKey, inputSpec: { spec: result.spec, preprocess } as never, embeddingDim: embeddingDim(result.spec), evaluation: evaluation as never };
  } finally {
    result.model.dispose();
    result.heads.dispose();
  }
}
