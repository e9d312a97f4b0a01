import { tf } from '../../../src/training/engine/tf';
import { useBackend } from '../../../src/training/trainer/backend';
import { getPretextTask, createHeadStore, PRETEXTS, type Example, type Pretext, type TaskSetup } from '../../../src/training/pretext';
import { buildModel } from '../../../src/training/encoders';
import { MODALITIES, type Modality } from '../../../src/ingest/types';
import { TextTokenizer } from '../../../src/training/tokenizer';
import { toExamples } from '../../../src/training/data/rows';
import { createRng } from '../../../src/training/rng';
import { tinyImages, tinySequences, tinyTexts } from '../data/fixtures';
import { IGNORE_INDEX } from '../../../src/training/labels';

let tokenizer: TextTokenizer;
const examples: Partial<Record<Modality, Example[]>> = {};
const shapes = { TEXT: tinyTexts(1).shape, IMAGE: tinyImages(1).shape, SEQUENCE: tinySequences(1).shape };

beforeAll(async () => {
  await useBackend('wasm');
  const texts = tinyTexts(12).rows;
  tokenizer = await TextTokenizer.train(texts.map((r) => r.text), { vocabSize: 120 });
  const tokens = await tokenizer.tokenize(texts.map((r) => r.text));
  examples.TEXT = toExamples(texts, { shape: shapes.TEXT, tokens });
  examples.IMAGE = toExamples(tinyImages(6).rows, { shape: shapes.IMAGE });
  examples.SEQUENCE = toExamples(tinySequences(6).rows, { shape: shapes.SEQUENCE });
});

const combos = PRETEXTS.flatMap((p) => MODALITIES.map((m) => [p, m] as [Pretext, Modality]));

describe('getPretextTask', () => {
  it.each(combos)('%s × %s: builds a spec, prepares a batch off-tfjs and gives a finite scalar loss with gradients', (pretext, modality) => {
    const task = getPretextTask(pretext, modality);
    expect(task.pretext).toBe(pretext);
    expect(task.modality).toBe(modality);
    const base = { shape: shapes[modality], tokenizer, maxLength: 16 };
    const spec = task.modelSpec(task.encoderKinds[0]!, base, { dim: 16, layers: 1 });
    const setup: TaskSetup = { ...base, spec };
    const model = buildModel(spec, { seed: 1 });
    const heads = createHeadStore(1);
    task.addHeads(heads, setup);
    const before = tf.memory().numTensors;
    const batch = task.prepare(examples[modality]!.slice(0, 4), createRng(1), setup);
    for (const t of Object.values(batch)) expect(t.data.length).toBe(t.shape.reduce((a, b) => a * b, 1));
    const vars = [...Object.values(model.trainableVariables()), ...Object.values(heads.trainableVariables())];
    const { value, grads } = tf.variableGrads(() => task.loss(model, heads, batch, { training: true }), vars);
    const loss = value.dataSync()[0]!;
    expect(Number.isFinite(loss)).toBe(true);
    expect(loss).toBeGreaterThan(0);
    // Every encoder parameter gets a gradient (the task really trains the encoder).
    for (const v of Object.values(model.trainableVariables())) expect(grads[v.name]).toBeDefined();
    tf.dispose([value, ...Object.values(grads)]);
    const emb = task.embed(model, heads, task.embedInputs(examples[modality]!.slice(0, 3), setup));
    expect(emb.shape[0]).toBe(3);
    emb.dispose();
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
    heads.dispose();
  });

  it('MLM puts labels only on real word pieces, never on [CLS] or padding', () => {
    const task = getPretextTask('MASKED', 'TEXT');
    const base = { shape: shapes.TEXT, tokenizer, maxLength: 16 };
    const setup: TaskSetup = { ...base, spec: task.modelSpec('transformer', base, { dim: 16, layers: 1 }) };
    const batch = task.prepare(examples.TEXT!, createRng(5), setup);
    const ids = batch.inputIds!.data, labels = batch.labels!.data, mask = batch.attentionMask!.data;
    for (let i = 0; i < ids.length; i++) {
      if (i % 16 === 0 || !mask[i]) expect(labels[i]).toBe(IGNORE_INDEX);
      if (labels[i] === IGNORE_INDEX) continue;
      expect(labels[i]).not.toBe(tokenizer.padId);
    }
    expect(Array.from(labels).some((v) => v !== IGNORE_INDEX)).toBe(true);
  });

  it('rejects unknown pretexts and modalities, listing the valid choices', () => {
    expect(() => getPretextTask('ROTATION' as Pretext, 'IMAGE')).toThrow('Unsupported pretext: "ROTATION". Should be one of: MASKED, CONTRASTIVE, NEXT_STEP.');
    expect(() => getPretextTask('MASKED', 'AUDIO' as Modality)).toThrow('Unsupported modality: "AUDIO". Should be one of: TEXT, IMAGE, SEQUENCE.');
  });

  it('rejects an encoder that cannot do the task, listing valid ones', () => {
    const base = { shape: shapes.TEXT, tokenizer, maxLength: 16 };
    expect(() => getPretextTask('MASKED', 'TEXT').modelSpec('mlp', base, { dim: 16, layers: 1 })).toThrow('Unsupported encoder: "mlp" for MASKED × TEXT. Should be one of: transformer.');
    expect(() => getPretextTask('NEXT_STEP', 'TEXT').modelSpec('transformer', base, { dim: 16, layers: 1 })).toThrow(/Should be one of: sequence/);
    expect(() => getPretextTask('MASKED', 'SEQUENCE').modelSpec('mlp', { shape: shapes.SEQUENCE }, { dim: 16, layers: 1 })).toThrow(/Should be one of: sequence/);
    expect(() => getPretextTask('CONTRASTIVE', 'IMAGE').modelSpec('transformer', { shape: shapes.IMAGE }, { dim: 16, layers: 1 })).toThrow('Unsupported encoder: "transformer" for CONTRASTIVE × IMAGE. Should be one of: cnn, mlp.');
  });

  it('validates hyperparameters with fix-it messages', () => {
    expect(() => getPretextTask('CONTRASTIVE', 'IMAGE', { temperature: 0 })).toThrow(/temperature must be a finite number > 0; got 0/);
    expect(() => getPretextTask('CONTRASTIVE', 'TEXT', { temperature: -1 })).toThrow(/temperature/);
    expect(() => getPretextTask('NEXT_STEP', 'SEQUENCE', { variant: 'cpc', temperature: 0 })).toThrow(/temperature/);
    expect(() => getPretextTask('MASKED', 'TEXT', { maskRatio: 0 })).toThrow('maskRatio must be in (0, 1); got 0. BERT uses 0.15.');
    expect(() => getPretextTask('MASKED', 'IMAGE', { maskRatio: 1 })).toThrow(/maskRatio must be in \(0, 1\); got 1/);
    expect(() => getPretextTask('MASKED', 'SEQUENCE', { maskRatio: 1.5 })).toThrow(/maskRatio/);
    expect(() => getPretextTask('NEXT_STEP', 'SEQUENCE', { variant: 'rnn' as 'mse' })).toThrow('Unsupported variant: "rnn". Should be one of: mse, cpc.');
  });

  it('rejects data that does not match the task: wrong modality, empty batch, bad patch size', () => {
    const task = getPretextTask('MASKED', 'IMAGE');
    const setup: TaskSetup = { shape: shapes.IMAGE, spec: task.modelSpec('mlp', { shape: shapes.IMAGE }, { dim: 16, layers: 1 }) };
    expect(() => task.prepare(examples.SEQUENCE!, createRng(1), setup)).toThrow('This task trains on IMAGE examples but got a SEQUENCE example.');
    expect(() => task.prepare([], createRng(1), setup)).toThrow(/zero examples: the dataset .* is empty/);
    const bad = getPretextTask('MASKED', 'IMAGE', { patchSize: 3 });
    expect(() => bad.prepare(examples.IMAGE!, createRng(1), setup)).toThrow('patchSize 3 must be a positive integer dividing the image size 8×8.');
  });
});
