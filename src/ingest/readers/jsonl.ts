// The line loop shared by the .jsonl readers: each non-blank line parsed as one JSON object and turned into an
// example by the format's `toExample`; an InputError is reported at that line and the line skipped.
import { InputError, type Position } from '../errors';
import { readLines } from '../lines';
import type { Example, ReadContext } from '../source';
import { isPlainObject } from './common';

type ExampleBody = Example extends infer E ? (E extends Example ? Omit<E, 'at'> : never) : never;

export async function* readJsonl(
  source: AsyncIterable<Buffer>,
  file: string,
  ctx: ReadContext,
  /** What a line must hold, for the error message: `each line must be a JSON object with ${shape}`. */
  shape: string,
  toExample: (obj: Record<string, unknown>) => ExampleBody | null,
): AsyncGenerator<Example> {
  for await (const { text, line } of readLines(source, file, ctx)) {
    if (text.trim() === '') continue;
    const at: Position = { file, line };
    try {
      let obj: unknown;
      try {
        obj = JSON.parse(text);
      } catch (e) {
        throw new InputError('BAD_RECORD', `invalid JSON: ${(e as Error).message}`);
      }
      const example = isPlainObject(obj) ? toExample(obj) : null;
      if (!example) throw new InputError('BAD_RECORD', `each line must be a JSON object with ${shape}`);
      yield { ...example, at } as Example;
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      ctx.problems.report(at, e.code, e.message);
    }
  }
}
