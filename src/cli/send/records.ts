/**
 * @module cli/send/records
 * Reads the records `junction send` sends, one message body each, as a stream:
 * a file of any size is never held whole (only a single JSON body is, as it
 * is one message). Every record carries the line it starts on, and a record
 * that cannot be parsed is yielded as an error at its line, not thrown: the
 * records around it are still sent.
 *
 * - `json`: one body, or an array of bodies (split as it streams in);
 * - `jsonl`: one body per line; blank lines are skipped;
 * - `csv`: one object per row, keyed by the header row; values are strings.
 */
import { extname } from 'node:path';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { parse, type CsvError } from 'csv-parse';
import type { Json } from '../../core/message.ts';

export const SEND_FORMATS = ['json', 'jsonl', 'csv'] as const;
export type SendFormat = (typeof SEND_FORMATS)[number];

export type SourceRecord = { line: number; body: Json } | { line: number; error: string };

/** The format a file's extension names, or undefined. */
export function formatOfFile(file: string): SendFormat | undefined {
  switch (extname(file).toLowerCase()) {
    case '.json':
      return 'json';
    case '.jsonl':
    case '.ndjson':
      return 'jsonl';
    case '.csv':
      return 'csv';
    default:
      return undefined;
  }
}

/**
 * The records of `source`. `detect` (stdin without `--format`): a JSON array
 * when the first character that is not white space is `[`, else JSON lines.
 */
export function readRecords(source: Readable, format: SendFormat | 'detect'): AsyncGenerator<SourceRecord> {
  if (format === 'detect') return detected(source);
  if (format === 'csv') return csvRecords(source);
  if (format === 'jsonl') return jsonLines(source);
  return jsonRecords(source);
}

/** Reads up to the first byte that is not white space (nor a BOM), decides, and reads everything on with the format chosen. */
async function* detected(source: Readable): AsyncGenerator<SourceRecord> {
  const chunks = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const head: Buffer[] = [];
  let first: number | undefined;
  while (first === undefined) {
    const next = await chunks.next();
    if (next.done) break;
    head.push(next.value);
    first = next.value.find((b) => !isSpace(b) && b !== 0xef && b !== 0xbb && b !== 0xbf);
  }
  async function* all(): AsyncGenerator<Buffer> {
    yield* head;
    for (let next = await chunks.next(); !next.done; next = await chunks.next()) yield next.value;
  }
  const rest = Readable.from(all(), { objectMode: false });
  yield* first === OPEN_BRACKET ? jsonRecords(rest) : jsonLines(rest);
}

function parsed(line: number, text: string): SourceRecord {
  try {
    return { line, body: JSON.parse(text) as Json };
  } catch (e) {
    return { line, error: `not JSON: ${(e as Error).message}` };
  }
}

async function* jsonLines(source: Readable): AsyncGenerator<SourceRecord> {
  let line = 0;
  for await (const text of createInterface({ input: source, crlfDelay: Infinity })) {
    line++;
    const t = line === 1 ? stripBom(text) : text;
    if (t.trim() === '') continue;
    yield parsed(line, t);
  }
}

async function* csvRecords(source: Readable): AsyncGenerator<SourceRecord> {
  const skipped: SourceRecord[] = [];
  const parser = source.pipe(
    parse({
      columns: true,
      bom: true,
      skip_empty_lines: true,
      info: true,
      // A row that cannot be read (a stray quote, a wrong number of fields) is reported at its line; the rest go on.
      skip_records_with_error: true,
      on_skip: (err: CsvError | undefined) => {
        const lines = (err as { lines?: unknown } | undefined)?.lines;
        skipped.push({ line: typeof lines === 'number' ? lines : 0, error: `CSV: ${err?.message ?? 'unreadable row'}` });
        return undefined;
      },
    }),
  );
  source.on('error', (e) => parser.destroy(e));
  for await (const { record, info } of parser as AsyncIterable<{ record: Record<string, string>; info: { lines: number } }>) {
    yield* skipped.splice(0);
    yield { line: info.lines, body: record };
  }
  yield* skipped.splice(0);
}

function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

const NEWLINE = 10;
const QUOTE = 34;
const BACKSLASH = 92;
const COMMA = 44;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13 || c === 0xfeff;
}

/**
 * A JSON document: a top-level array is split into its elements as the text
 * streams in (tracking strings and nesting, so only one element is held at a
 * time, and each is parsed on its own: a bad one is reported at its line and
 * the next ones still are read); anything else is one body.
 */
async function* jsonRecords(source: Readable): AsyncGenerator<SourceRecord> {
  source.setEncoding('utf8');
  let phase: 'start' | 'array' | 'end' | 'other' = 'start';
  let line = 1;
  let depth = 0;
  let inString = false;
  let escaped = false;
  let capturing = false;
  let startLine = 0;
  let pieces: string[] = [];
  let other = '';
  let otherLine = 1;
  let trailing = false;

  for await (const chunk of source as AsyncIterable<string>) {
    const out: SourceRecord[] = [];
    if (phase === 'other') {
      other += chunk;
      continue;
    }
    let from = 0;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk.charCodeAt(i);
      if (c === NEWLINE) line++;
      if (inString) {
        if (escaped) escaped = false;
        else if (c === BACKSLASH) escaped = true;
        else if (c === QUOTE) inString = false;
        continue;
      }
      if (phase === 'start') {
        if (isSpace(c)) continue;
        if (c === OPEN_BRACKET) {
          phase = 'array';
          continue;
        }
        phase = 'other';
        otherLine = line;
        other = chunk.slice(i);
        break;
      }
      if (phase === 'end') {
        if (!isSpace(c) && !trailing) {
          trailing = true;
          out.push({ line, error: 'unexpected text after the closing ] of the array' });
        }
        continue;
      }
      if (!capturing) {
        if (isSpace(c)) continue;
        if (c === CLOSE_BRACKET) {
          phase = 'end';
          continue;
        }
        if (c === COMMA) {
          out.push({ line, error: 'an empty element in the array (two commas, or one before the first element)' });
          continue;
        }
        capturing = true;
        startLine = line;
        from = i;
      }
      if (c === QUOTE) inString = true;
      else if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
      else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        if (depth > 0) depth--;
        else {
          // The array's own closing bracket ends its last element.
          out.push(parsed(startLine, pieces.join('') + chunk.slice(from, i)));
          pieces = [];
          capturing = false;
          phase = 'end';
        }
      } else if (c === COMMA && depth === 0) {
        out.push(parsed(startLine, pieces.join('') + chunk.slice(from, i)));
        pieces = [];
        capturing = false;
      }
    }
    if (capturing) {
      pieces.push(chunk.slice(from));
      from = 0;
    }
    yield* out;
  }

  if (phase === 'array') {
    yield { line: capturing ? startLine : line, error: 'the array is not closed: the input ended inside it' };
  } else if (phase === 'other') {
    yield parsed(otherLine, other);
  }
}
