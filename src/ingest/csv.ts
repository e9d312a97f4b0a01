// RFC 4180 CSV records over lines: comma separated, double-quoted fields may hold commas, quotes ("") and newlines.
import { InputError } from './errors';
import type { Line } from './lines';

export interface CsvRecord {
  fields: string[];
  /** Line the record starts on (1-based). */
  line: number;
}

/** Parses records; blank lines between records are skipped. */
export async function* readCsvRecords(lines: AsyncIterable<Line>, maxRecordChars: number): AsyncGenerator<CsvRecord> {
  let fields: string[] = [];
  let field = '';
  let inQuotes = false;
  let startLine = 0;
  let recordChars = 0;

  for await (const { text, line } of lines) {
    if (!inQuotes) {
      if (text.trim() === '') continue;
      startLine = line;
      fields = [];
      field = '';
      recordChars = 0;
    } else {
      field += '\n';
    }
    recordChars += text.length + 1;
    if (recordChars > maxRecordChars) {
      throw new InputError('LINE_TOO_LONG', `CSV record is longer than ${maxRecordChars} characters`, { line: startLine });
    }
    let i = 0;
    const n = text.length;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (inQuotes) {
        if (c === 0x22) {
          if (i + 1 < n && text.charCodeAt(i + 1) === 0x22) {
            field += '"';
            i += 2;
            continue;
          }
          inQuotes = false;
          i += 1;
          continue;
        }
        const q = text.indexOf('"', i);
        const end = q < 0 ? n : q;
        field += text.slice(i, end);
        i = end;
        continue;
      }
      if (c === 0x2c) {
        fields.push(field);
        field = '';
        i += 1;
      } else if (c === 0x22 && field === '') {
        inQuotes = true;
        i += 1;
      } else {
        const comma = text.indexOf(',', i);
        const end = comma < 0 ? n : comma;
        const piece = text.slice(i, end);
        if (piece.includes('"')) {
          throw new InputError('BAD_RECORD', 'stray double quote inside an unquoted CSV field', { line });
        }
        field += piece;
        i = end;
      }
    }
    if (!inQuotes) {
      fields.push(field);
      yield { fields, line: startLine };
    }
  }
  if (inQuotes) {
    throw new InputError('BAD_RECORD', 'CSV ends inside a quoted field', { line: startLine });
  }
}
