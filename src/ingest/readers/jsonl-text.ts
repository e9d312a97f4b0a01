// Text .jsonl: one JSON object a line with a string `text` and an optional `label`; other keys are ignored.
import { readLines } from '../lines';
import type { Example, ReadContext } from '../source';
import { isPlainObject, toLabel } from './common';
import { InputError } from '../errors';

export async function* readJsonlText(source: AsyncIterable<Buffer>, file: string, ctx: ReadContext): AsyncGenerator<Example> {
  for await (const { text, line } of readLines(source, file, ctx)) {
    if (text.trim() === '') continue;
    const at = { file, line };
    try {
      let obj: unknown;
      try {
        obj = JSON.parse(text);
      } catch (e) {
        throw new InputError('BAD_RECORD', `invalid JSON: ${(e as Error).message}`);
      }
      if (!isPlainObject(obj) || typeof obj.text !== 'string') {
        throw new InputError('BAD_RECORD', 'each line must be a JSON object with a string "text" (and optionally "label")');
      }
      yield { modality: 'TEXT', text: obj.text, label: toLabel(obj.label), at };
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      ctx.problems.report(at, e.code, e.message);
    }
  }
}
