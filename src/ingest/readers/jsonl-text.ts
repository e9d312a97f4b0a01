// Text .jsonl: one JSON object a line with a string `text` and an optional `label`; other keys are ignored.
import type { Example, ReadContext } from '../source';
import { toLabel } from './common';
import { readJsonl } from './jsonl';

export function readJsonlText(source: AsyncIterable<Buffer>, file: string, ctx: ReadContext): AsyncGenerator<Example> {
  return readJsonl(source, file, ctx, 'a string "text" (and optionally "label")', (obj) =>
    typeof obj.text === 'string' ? { modality: 'TEXT', text: obj.text, label: toLabel(obj.label) } : null,
  );
}
