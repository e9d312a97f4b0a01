// PRETRAIN task: the pretext trainer with callbacks wired to the trainer API, checkpoints in the run's prefix (and
// resume from the last one), then ONNX + weights (+ tokenizer) uploaded and an evaluation report computed on the
// held-out split when the dataset has labels.
import { embeddingDim } from '../../models/spec';
import { encodeWeights } from '../../models/weights-file';
import type { CompletionReport } from '../../contracts/trainer-wire';
import type { TrainConfig } from '../trainer/config';
import type { TaskContext } from './context';
import { encoderReport } from './evaluation-report';
import { readVersion, upload } from './gateway-client';
import { GatewayCheckpointStore } from './checkpoint-store';

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
  // NEXT_STEP × TEXT trains its token table among the task heads; the version keeps it in front of the encoder
  // (a tokens spec), so the version embeds text, predicts and fine-tunes like any other text model.
  const { buildEncoderModel, servableNextStepText } = await import('../finetune/tokenSequenceModel');
  const servable = config.modality === 'TEXT' && config.pretext === 'NEXT_STEP' && result.tokenizer
    ? servableNextStepText(result.spec, result.model.getWeights(), result.heads.exportWeights(), result.tokenizer)
    : null;
  const served = servable ? buildEncoderModel(servable.spec, { seed: config.seed ?? 0 }) : result.model;
  try {
    await ctx.flushMetrics();
    if (servable) served.setWeights(servable.weights, { strict: true });
    const modelSpec = servable?.spec ?? result.spec;
    const weights = servable?.weights ?? result.model.getWeights();
    const onnxKey = await upload(api, 'model/model.onnx', exportOnnx(modelSpec, weights));
    const weightsKey = await upload(api, 'model/weights.bin', encodeWeights(weights));
    const tokenizerJson = result.tokenizer?.toJSON();
    const tokenizerKey = tokenizerJson ? await upload(api, 'model/tokenizer.json', Buffer.from(tokenizerJson)) : null;
    const seq = config.modality === 'SEQUENCE' && result.spec.input.kind === 'sequence' ? result.spec.input.length : undefined;
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
    const found = await encoderReport(served, evalRows.filter((r) => r.split === 'train'), evalRows, {
      pipeline: { ...(result.tokenizer ? { tokenizer: result.tokenizer } : {}), ...(result.normalization ? { normalization: result.normalization } : {}) },
      seed: config.seed ?? 0,
      log: (m) => ctx.log('info', m),
    });
    const report: Record<string, unknown> | null = found ? { ...found, datasetVersionId: spec.evaluationSet?.datasetVersionId ?? spec.datasetVersionId } : null;
    if (report) ctx.log('info', `evaluation on the ${String(report.split)} split: ${JSON.stringify({ linearProbeAccuracy: report.linearProbeAccuracy, knnAccuracy: report.knnAccuracy, r2: report.r2 })}`);
    await ctx.flushLogs();
    // The report when the rows allow one; else the trainer's running kNN check (validation split), if any.
    const evaluation = report ? { ...report, ...(result.evaluation ? { duringTraining: { ...result.evaluation } } : {}) } : result.evaluation ? { ...result.evaluation } : null;
    return { onnxKey, weightsKey, tokenizerKey, inputSpec: { spec: modelSpec, preprocess } as never, embeddingDim: embeddingDim(modelSpec), evaluation: evaluation as never };
  } finally {
    if (served !== result.model) served.dispose();
    result.model.dispose();
    result.heads.dispose();
  }
}
