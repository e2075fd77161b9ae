/**
 * @module triggers/records
 * Streams a large CSV upload into one message per record. The body is parsed as
 * it arrives and stored in chunks (one commit each), so an upload of any size is
 * never held whole in memory: only the records of the chunk being committed are.
 * The body is not read while a chunk commits (the pipe's backpressure), and both a
 * record and a chunk are bounded in size, so neither grows with the upload.
 *
 * A chunk that is committed stays committed, so a failure half-way (a malformed
 * row, a dropped connection) leaves the records before it accepted. Each record's
 * dedupe key is the upload's `Idempotency-Key` plus its index (or the trigger's
 * key expression on the record), so sending the same upload again with the same
 * key adds only what is missing.
 */
import type { Readable } from 'node:stream';
import { CsvError, parse } from 'csv-parse';
import { z } from 'zod';
import { errors, isJunctionError, withMessage } from '../core/errors.ts';
import type { Expression } from '../core/expression.ts';
import { newId } from '../core/ids.ts';
import type { Json, NewMessage } from '../core/message.ts';
import { checkKey, keyFromExpression } from './dedupe-key.ts';
import type { Ingest } from './ingest.ts';

export const recordsOptions = z
  .strictObject({
    format: z.literal('csv').describe('How the body is split into records.'),
    header: z.boolean().default(true).describe('The first row names the columns; each record is an object.'),
    columns: z.array(z.string().min(1)).optional().describe('Column names when there is no header row.'),
    delimiter: z.string().min(1).default(',').describe('Field separator.'),
    chunkRecords: z.int().min(1).max(50_000).default(1000).describe('Records stored per commit (fewer when they reach 8 MB).'),
    maxRecordBytes: z.int().min(1).max(64 * 1024 * 1024).default(1024 * 1024)
      .describe('Longest record accepted, in bytes; a longer one is refused with 400, as the parser would hold it whole.'),
    maxBodyBytes: z.int().min(1).default(1024 * 1024 * 1024).describe('Largest upload accepted, in bytes.'),
  })
  .refine((o) => o.header || (o.columns && o.columns.length > 0), 'without a header row, name the columns')
  .describe('Stream the body (CSV) into one message per record instead of one message for the whole body.');

export type RecordsOptions = z.output<typeof recordsOptions>;

/** A chunk is committed early when its records reach this size, so large records do not make a large chunk. */
const CHUNK_BYTES = 8 * 1024 * 1024;

export interface RecordsResult {
  /** Records read. */
  count: number;
  /** Records stored now; the rest were already there (a repeated upload). */
  created: number;
}

export interface RecordsIngestInput {
  source: Readable;
  options: RecordsOptions;
  /** The fields every record's message shares. */
  base: Omit<NewMessage, 'body' | 'dedupeKey'>;
  /** The upload's Idempotency-Key; a fresh one when the sender gave none. */
  uploadKey: string | undefined;
  keyExpression: Expression | undefined;
  ingest: Ingest;
  /** Runs the flow's ingress steps on each record; rejects to refuse it. */
  check?: ((msg: NewMessage) => Promise<void>) | undefined;
}

export async function ingestRecords(input: RecordsIngestInput): Promise<RecordsResult> {
  const { source, options, base, ingest } = input;
  const uploadKey = input.uploadKey === undefined ? newId() : checkKey(input.uploadKey);
  const headers = base.headers ?? {};
  let bytes = 0;
  source.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    if (bytes > options.maxBodyBytes) source.destroy(errors.INPUT_TOO_LARGE.create([options.maxBodyBytes]));
  });
  const parser = source.pipe(
    parse({
      columns: options.header ? true : options.columns,
      delimiter: options.delimiter,
      bom: true,
      skip_empty_lines: true,
      max_record_size: options.maxRecordBytes,
    }),
  );
  source.on('error', (e) => parser.destroy(e));

  let count = 0;
  let created = 0;
  let chunk: NewMessage[] = [];
  let chunkBytes = 0;
  const flush = async (): Promise<void> => {
    if (chunk.length === 0) return;
    const results = await ingest(chunk);
    created += results.filter((r) => !r.duplicate).length;
    chunk = [];
    chunkBytes = 0;
  };
  try {
    for await (const record of parser as AsyncIterable<Record<string, string>>) {
      const body = record as Json;
      const dedupeKey = input.keyExpression ? await keyFromExpression(input.keyExpression, body, headers) : `${uploadKey}:${count}`;
      const msg: NewMessage = { ...base, body, dedupeKey };
      if (input.check) await input.check(msg);
      chunk.push(msg);
      chunkBytes += recordBytes(record);
      count++;
      if (chunk.length >= options.chunkRecords || chunkBytes >= CHUNK_BYTES) await flush();
    }
    await flush();
  } catch (e) {
    // The parser is gone and the body paused: read the rest into nothing (the byte count above
    // still applies), or a sender that goes on sending is stuck until the connection times out.
    source.unpipe(parser);
    source.resume();
    throw partialFailure(e, count, created);
  }
  return { count, created };
}

/** The size of a record's values, near enough to bound a chunk (UTF-16 units, not UTF-8 bytes). */
function recordBytes(record: Record<string, string>): number {
  let n = 0;
  for (const value of Object.values(record)) n += value.length;
  return n;
}

/** Says what was kept, so the sender knows that sending again with the same key is safe. */
function partialFailure(e: unknown, count: number, created: number): Error {
  // A key refused for a changed record cannot be helped by the same key again: the upload itself changed.
  const kept = isJunctionError(e) && e.code === errors.IDEMPOTENCY_KEY_REUSED.code
    ? `${created} records were stored before it; a changed upload needs a new Idempotency-Key`
    : `${count} records before it were read and ${created} stored; send the upload again with the same Idempotency-Key to add the rest`;
  if (isJunctionError(e)) {
    return withMessage(e, `${e.message}; ${kept}`, { cause: e, details: { ...e.details, stored: created } });
  }
  // By class, not by code: one of the parser's codes (INVALID_OPENING_QUOTE) lacks the CSV_ prefix of the others.
  if (e instanceof CsvError) {
    const lines = typeof e.lines === 'number' ? e.lines : undefined;
    return errors.INPUT_INVALID.create([`CSV line ${lines ?? '?'}: ${e.message}; ${kept}`], { cause: e, details: { line: lines ?? null, stored: created } });
  }
  return e instanceof Error ? e : new Error(String(e));
}
