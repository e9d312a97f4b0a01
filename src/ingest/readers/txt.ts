// .txt: one example a line; blank lines are skipped; no labels.
import { readLines } from '../lines';
import type { Example, ReadContext } from '../source';

export async function* readTxt(source: AsyncIterable<Buffer>, file: string, ctx: ReadContext): AsyncGenerator<Example> {
  for await (const { text, line } of readLines(source, file, ctx)) {
    if (text.trim() === '') continue;
    yield { modality: 'TEXT', text, label: null, at: { file, line } };
  }
}
