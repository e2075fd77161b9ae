/**
 * @module steps/convert/csv
 * CSV text ↔ rows (JSON objects keyed by column name), with csv-parse and
 * csv-stringify configured once per step. Values read as strings unless a
 * column's type says otherwise, so `007` keeps its zeros.
 */
import { CsvError, parse, type CastingContext, type Options as ParseOptions } from 'csv-parse/sync';
import { stringify, type Options as StringifyOptions } from 'csv-stringify/sync';
import { errors, isJunctionError } from '../../core/errors.ts';
import type { Json } from '../../core/message.ts';
import { isRecord } from '../../core/record.ts';
import { describeValue, quoteExcerpt } from './describe.ts';
import type { ConvertKind, CsvOptions, CsvType } from './options.ts';

export type Row = Record<string, Json>;

export interface CsvCodec {
  /**
   * Reads CSV text into rows.
   * @throws JNC_CONVERT_CSV naming the line (and column) of the first problem
   */
  parse(text: string): Row[];
  /**
   * Writes rows as CSV. Nested values are written as JSON, null as an empty field.
   * @param from the kind the rows were read from, for error messages
   * @throws JNC_CONVERT_SHAPE when a row is not an object
   */
  stringify(rows: readonly Json[], from: ConvertKind): string;
}

/** @param where the step, for error messages: `flow[index].convert` */
export function createCsvCodec(options: CsvOptions, where: string): CsvCodec {
  const csvError = (line: number, column: string | undefined, problem: string) =>
    errors.CONVERT_CSV.create([where, `line ${line}${column === undefined ? '' : `, column ${column}`}: ${problem}`], {
      details: column === undefined ? { line } : { line, column },
    });

  const parseOptions = readOptions(options, csvError);
  const writeOptions: StringifyOptions = {
    header: options.header,
    delimiter: options.delimiter,
    quote: options.quote,
    escape: options.quote,
    bom: options.bom,
    record_delimiter: options.eol === 'crlf' ? 'windows' : 'unix',
    // csv-stringify writes true as "1" and false as ""; keep them readable and distinct.
    cast: { boolean: (v) => (v ? 'true' : 'false') },
  };

  const writeListed: StringifyOptions = { ...writeOptions, columns: options.columns };

  return {
    parse(text) {
      try {
        return parse(text, parseOptions) as unknown as Row[];
      } catch (e) {
        if (isJunctionError(e)) throw e;
        if (e instanceof CsvError) throw fromCsvError(e, csvError);
        throw errors.CONVERT_CSV.create([where, (e as Error).message], { cause: e });
      }
    },

    stringify(rows, from) {
      // Rows may differ in keys; every key found becomes a column unless `columns` says which.
      const seen = options.columns === undefined ? new Set<string>() : undefined;
      for (const [i, row] of rows.entries()) {
        if (!isRecord(row)) {
          throw errors.CONVERT_SHAPE.create([where, from, 'csv', `row ${i + 1} is ${describeValue(row)}, not an object`]);
        }
        if (seen) for (const key of Object.keys(row)) seen.add(key);
      }
      return stringify(rows as Row[], seen ? { ...writeOptions, columns: [...seen] } : writeListed);
    },
  };
}

type CsvErrorFactory = (line: number, column: string | undefined, problem: string) => Error;

function readOptions(o: CsvOptions, csvError: CsvErrorFactory): ParseOptions {
  const types = Object.entries(o.types).filter(([, t]) => t !== 'string');
  const typeOf = new Map<string, CsvType>(types);
  const wanted = o.header ? o.columns : undefined;
  return {
    delimiter: o.delimiter,
    quote: o.quote,
    escape: o.quote,
    bom: true,
    skip_empty_lines: true,
    columns: !o.header
      ? o.columns!
      : wanted === undefined
        ? true
        : (header: string[]) => {
            // Keep the named columns only, and check the header has each of them.
            const missing = wanted.filter((c) => !header.includes(c));
            if (missing.length > 0) throw csvError(1, undefined, `the header has no column ${missing.join(', ')} (it has ${header.join(', ')})`);
            const keep = new Set(wanted);
            return header.map((h) => (keep.has(h) ? h : undefined));
          },
    ...(typeOf.size === 0
      ? {}
      : {
          cast: (value: string, ctx: CastingContext) => {
            if (ctx.header) return value;
            const type = typeOf.get(String(ctx.column));
            return type === undefined ? value : coerce(value, type, () => csvError(ctx.lines, String(ctx.column), `${quoteExcerpt(value)} is not ${ARTICLE[type]}`));
          },
        }),
  };
}

const ARTICLE: Record<CsvType, string> = { string: 'a string', number: 'a number', integer: 'an integer', boolean: 'a boolean (true or false)' };

const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const INTEGER = /^[+-]?\d+$/;

/** An empty field is null; anything else must read exactly as the type. */
function coerce(value: string, type: CsvType, fail: () => Error): Json {
  if (value === '') return null;
  switch (type) {
    case 'string':
      return value;
    case 'number':
      if (NUMBER.test(value)) return Number(value);
      break;
    case 'integer':
      if (INTEGER.test(value) && Number.isSafeInteger(Number(value))) return Number(value);
      break;
    case 'boolean': {
      const lower = value.toLowerCase();
      if (lower === 'true' || lower === 'false') return lower === 'true';
      break;
    }
  }
  throw fail();
}

/** csv-parse's errors, restated with the line and the counts. */
function fromCsvError(e: CsvError, csvError: CsvErrorFactory): Error {
  const info = e as CsvError & { lines?: number; record?: unknown[]; columns?: unknown[] | boolean };
  const line = info.lines ?? 0;
  if (e.code === 'CSV_RECORD_INCONSISTENT_COLUMNS' || e.code === 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH') {
    const expected = Array.isArray(info.columns) ? info.columns.length : undefined;
    const got = info.record?.length;
    const fields = (n: number | undefined) => (n === undefined ? 'a different number of fields' : `${n} field${n === 1 ? '' : 's'}`);
    return csvError(line, undefined, `the row has ${fields(got)}, the header ${fields(expected)}`);
  }
  // The rest (an unclosed quote, text after a closing quote) say what they found; drop csv-parse's own line note.
  return csvError(line, undefined, e.message.replace(/\s*(?:at|on) line \d+/, ''));
}
