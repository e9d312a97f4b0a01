// Dispatch: plans the uploaded files into reading units (pairing IDX images with labels, splits from file names)
// and reads one unit into examples, turning every failure into a positioned problem.
import { Readable } from 'node:stream';
import { gunzipGuarded, InflateGuard, openVerified, peek, readBounded } from '../bytes';
import { checkModality, checkTextHead, detectFromName, sniffBinary, type Detected } from '../detect';
import { IngestError, InputError, type ProblemSink } from '../errors';
import type { Example, ReadContext, SourceFile, SourceUnit } from '../source';
import type { Modality, Split } from '../types';
import { readCsvSequence } from './csv-sequence';
import { readCsvText } from './csv-text';
import { readIdx } from './idx';
import { readImageFile } from './image';
import { readJsonlSequence } from './jsonl-sequence';
import { readJsonlText } from './jsonl-text';
import { readNpy } from './npy';
import { readTar } from './tar';
import { readTxt } from './txt';
import { readWav } from './wav';
import { wavClipExample } from './wav-clip';
import { readZip } from './zip';

function baseName(name: string): string {
  return (name.split('/').pop() ?? name).toLowerCase();
}

/** Split named by a benchmark-style file name: train.* / train-*, test.* / t10k-*, validation.* / val.*. */
export function splitFromName(name: string): Split | null {
  const base = baseName(name);
  if (/^(train|training)([-_.]|$)/.test(base)) return 'train';
  if (/^(test|testing|t10k)([-_.]|$)/.test(base)) return 'test';
  if (/^(validation|valid|val|dev)([-_.]|$)/.test(base)) return 'validation';
  return null;
}

/** `train-images-idx3-ubyte.gz` and `train-labels-idx1-ubyte.gz` share the key `train`. */
function idxKey(name: string): string {
  return name
    .toLowerCase()
    .replace(/\.gz$/, '')
    .replace(/[-.]idx[13]-ubyte$/, '')
    .replace(/[-_.]?(images|labels)$/, '');
}

/** `train.labels.npy` (or -labels / _labels) labels `train.npy`; returns the labelled file's name, or null. */
function npyLabelsTarget(name: string): string | null {
  const m = /^(.*)[-_.]labels\.npy$/i.exec(name);
  return m ? `${m[1]}.npy`.toLowerCase() : null;
}

/**
 * Groups files into units in upload order. Unsupported names and unpaired IDX label files are reported.
 * `splitByName` maps train/validation/test file names to their split; otherwise every row uses the hash rule.
 */
export function planUnits(files: SourceFile[], modality: Modality, problems: ProblemSink, splitByName: boolean): SourceUnit[] {
  const units: SourceUnit[] = [];
  const labels = new Map<string, SourceFile>();
  const formats = new Map<SourceFile, Detected>();
  for (const f of files) {
    try {
      const det = detectFromName(f.name, modality);
      checkModality(f.name, det.format, modality);
      formats.set(f, det);
      if (det.format === 'idx-labels') labels.set(idxKey(f.name), f);
      const target = det.format === 'npy' ? npyLabelsTarget(f.name) : null;
      if (target) labels.set(`npy:${target}`, f);
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      problems.report({ file: f.name }, e.code, e.message);
    }
  }
  const paired = new Set<SourceFile>();
  for (const f of files) {
    const det = formats.get(f);
    if (!det || det.format === 'idx-labels' || (det.format === 'npy' && npyLabelsTarget(f.name))) continue;
    const unit: SourceUnit = { files: [f], split: splitByName ? splitFromName(f.name) : null };
    if (det.format === 'idx-images' || det.format === 'npy') {
      const l = labels.get(det.format === 'npy' ? `npy:${f.name.toLowerCase()}` : idxKey(f.name));
      if (l) {
        unit.files.push(l);
        paired.add(l);
      }
    }
    units.push(unit);
  }
  for (const l of labels.values()) {
    if (!paired.has(l)) {
      problems.report(
        { file: l.name },
        'MISSING_FILE',
        /\.npy$/i.test(l.name)
          ? `labels file has no matching data file (expected "${npyLabelsTarget(l.name)}")`
          : `IDX labels file has no matching images file (expected a *-images-idx3-ubyte[.gz] with the same prefix)`,
      );
    }
  }
  return units;
}

/** Opens a file's content: verified against its checksum, inflated under the bomb guard when gzipped. */
async function openContent(file: SourceFile, det: Detected, ctx: ReadContext): Promise<{ head: Buffer; stream: Readable }> {
  let stream = openVerified(file);
  if (det.gzip) {
    const { head, stream: s } = await peek(stream, 2);
    if (head.length > 0 && !(head[0] === 0x1f && head[1] === 0x8b)) {
      s.destroy();
      throw new InputError('CORRUPT_FILE', 'file is named .gz but is not gzip data');
    }
    stream = gunzipGuarded(s, new InflateGuard(ctx.limits));
  }
  const peeked = await peek(stream, 512);
  if (peeked.head.length === 0) {
    peeked.stream.destroy();
    throw new InputError('EMPTY_FILE', 'file is empty');
  }
  return peeked;
}

function expectMagic(head: Buffer, kinds: string[], name: string): void {
  const kind = sniffBinary(head);
  if (kind === null || !kinds.includes(kind)) {
    throw new InputError('CORRUPT_FILE', `"${name}" does not contain ${kinds.join(' or ')} (found ${kind ?? 'text'})`);
  }
}

async function* readFormat(unit: SourceUnit, ctx: ReadContext): AsyncGenerator<Example> {
  const file = unit.files[0]!;
  const modality = ctx.lock.shape.modality;
  const det = detectFromName(file.name, modality);
  const { head, stream } = await openContent(file, det, ctx);
  try {
    switch (det.format) {
      case 'txt':
      case 'jsonl':
      case 'csv':
        checkTextHead(file.name, head, modality);
        if (det.format === 'txt') yield* readTxt(stream, file.name, ctx);
        else if (det.format === 'jsonl') yield* modality === 'SEQUENCE' ? readJsonlSequence(stream, file.name, ctx) : readJsonlText(stream, file.name, ctx);
        else yield* modality === 'SEQUENCE' ? readCsvSequence(stream, file.name, ctx) : readCsvText(stream, file.name, ctx);
        return;
      case 'png':
      case 'jpeg':
        yield* readImageFile(stream, file.name, ctx);
        return;
      case 'zip':
        expectMagic(head, ['zip archive'], file.name);
        yield* readZip(stream, file.name, ctx);
        return;
      case 'tar':
        yield* readTar(stream, file.name, ctx);
        return;
      case 'idx-images': {
        expectMagic(head, ['IDX array'], file.name);
        const lf = unit.files[1];
        if (!lf) {
          yield* readIdx(stream, file.name, null, ctx);
          return;
        }
        const l = await openContent(lf, detectFromName(lf.name, modality), ctx);
        try {
          yield* readIdx(stream, file.name, { source: l.stream, file: lf.name }, ctx);
        } finally {
          l.stream.destroy();
        }
        return;
      }
      case 'npy': {
        expectMagic(head, ['NumPy array'], file.name);
        const lf = unit.files[1];
        if (!lf) {
          yield* readNpy(stream, file.name, ctx);
          return;
        }
        const l = await openContent(lf, detectFromName(lf.name, modality), ctx);
        try {
          yield* readNpy(stream, file.name, ctx, { source: l.stream, file: lf.name });
        } finally {
          l.stream.destroy();
        }
        return;
      }
      case 'wav':
        expectMagic(head, ['WAV audio'], file.name);
        // A dataset with a sample rate holds audio clips (one row per file, padded / cropped); otherwise a recording
        // is a multichannel signal cut into windows (wav.ts).
        if (ctx.lock.shape.modality === 'SEQUENCE' && ctx.lock.shape.sampleRate !== undefined) {
          yield wavClipExample(await readBounded(stream, ctx.limits.maxEntryBytes, 'audio file'), file.name, { file: file.name }, ctx);
        } else {
          yield* readWav(stream, file.name, ctx);
        }
        return;
      case 'idx-labels':
        return; // read together with their images
    }
  } finally {
    stream.destroy();
  }
}

/** Reads one unit. Problems go to ctx.problems; a file with no examples at all is reported as empty. */
export async function* readUnit(unit: SourceUnit, ctx: ReadContext): AsyncGenerator<Example> {
  const name = unit.files[0]!.name;
  let count = 0;
  const before = ctx.problems.count;
  try {
    for await (const ex of readFormat(unit, ctx)) {
      count += 1;
      yield ex;
    }
    if (count === 0 && ctx.problems.count === before) ctx.problems.report({ file: name }, 'EMPTY_FILE', 'file holds no examples');
  } catch (e) {
    if (e instanceof IngestError) throw e;
    if (e instanceof InputError) {
      ctx.problems.report({ file: name, ...e.at }, e.code, e.message);
      return;
    }
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') {
      ctx.problems.report({ file: name }, 'MISSING_FILE', err.message);
      return;
    }
    throw e;
  }
}
