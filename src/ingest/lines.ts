// Line splitting for text formats: strict UTF-8 (a bad line is reported, not silently replaced) and a hard cap on
// line length so one huge line cannot exhaust memory.
import { InputError } from './errors';
import type { ReadContext } from './source';

export interface Line {
  text: string;
  /** 1-based line number. */
  line: number;
}

const NL = 0x0a;

/**
 * Yields decoded lines. Invalid UTF-8 is reported at its line (and the line skipped); a line longer than
 * `maxLineBytes` stops the file, since nothing after it can be trusted to line up.
 */
export async function* readLines(source: AsyncIterable<Buffer>, file: string, ctx: ReadContext): AsyncGenerator<Line> {
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
  const max = ctx.limits.maxLineBytes;
  let parts: Buffer[] = [];
  let partLen = 0;
  let lineNo = 0;

  const emit = (bytes: Buffer): Line | null => {
    lineNo += 1;
    let end = bytes.length;
    if (end > 0 && bytes[end - 1] === 0x0d) end -= 1;
    try {
      // The BOM is only meaningful on the first line; TextDecoder strips it when ignoreBOM is false.
      const text = lineNo === 1 ? decoder.decode(bytes.subarray(0, end)) : decodeNoBom(bytes.subarray(0, end));
      return { text, line: lineNo };
    } catch {
      ctx.problems.report({ file, line: lineNo }, 'INVALID_UTF8', 'line is not valid UTF-8');
      return null;
    }
  };
  const tooLong = () =>
    new InputError('LINE_TOO_LONG', `line is longer than ${max} bytes (limit maxLineBytes)`, { line: lineNo + 1 });

  for await (const chunk of source) {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(NL, start);
      if (nl < 0) {
        const rest = chunk.subarray(start);
        if (rest.length > 0) {
          partLen += rest.length;
          if (partLen > max) throw tooLong();
          parts.push(rest);
        }
        break;
      }
      let bytes = chunk.subarray(start, nl);
      if (partLen > 0) {
        if (partLen + bytes.length > max) throw tooLong();
        parts.push(bytes);
        bytes = Buffer.concat(parts, partLen + bytes.length);
        parts = [];
        partLen = 0;
      } else if (bytes.length > max) {
        throw tooLong();
      }
      const l = emit(bytes);
      if (l) yield l;
      start = nl + 1;
    }
  }
  if (partLen > 0) {
    const l = emit(Buffer.concat(parts, partLen));
    if (l) yield l;
  }
}

const plainDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
function decodeNoBom(bytes: Uint8Array): string {
  return plainDecoder.decode(bytes);
}
