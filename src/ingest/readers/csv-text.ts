// Text .csv: a header row naming a `text` column and optionally a `label` column; other columns are ignored.
import { readCsvRecords } from '../csv';
import { InputError } from '../errors';
import { readLines } from '../lines';
import type { Example, ReadContext } from '../source';
import { toLabel } from './common';

export async function* readCsvText(source: AsyncIterable<Buffer>, file: string, ctx: ReadContext): AsyncGenerator<Example> {
  let textCol = -1;
  let labelCol = -1;
  let width = 0;
  for await (const { fields, line } of readCsvRecords(readLines(source, file, ctx), ctx.limits.maxLineBytes)) {
    if (width === 0) {
      const names = fields.map((f) => f.trim().toLowerCase());
      textCol = names.indexOf('text');
      labelCol = names.indexOf('label');
      if (textCol < 0) {
        throw new InputError(
          'BAD_CSV_HEADER',
          `CSV header must name a "text" column (and optionally "label"); found: ${fields.join(', ')}`,
          { line },
        );
      }
      width = fields.length;
      continue;
    }
    if (fields.length !== width) {
      ctx.problems.report({ file, line }, 'BAD_RECORD', `record has ${fields.length} field(s); the header has ${width}`);
      continue;
    }
    yield { modality: 'TEXT', text: fields[textCol]!, label: labelCol >= 0 ? toLabel(fields[labelCol]) : null, at: { file, line } };
  }
}
