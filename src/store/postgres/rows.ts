/**
 * @module store/postgres/rows
 * Turns PostgreSQL rows (snake_case columns, JSON as text, bigint as the string pg
 * gives for int8) into the store's types. The JSON-writing side is SQLite's, shared.
 */
import type { ResponseSnapshot } from '../../core/call.ts';
import type { AttemptRecord, Json } from '../../core/message.ts';
import type { Claimed, DeadLetter, DeadLetterSummary, MessageRecord, MessageState } from '../store.ts';

export { toJsonOrNull, toJsonText } from '../sqlite/rows.ts';

export type Row = Record<string, unknown>;

export function text(row: Row, column: string): string {
  const value = row[column];
  if (typeof value !== 'string') throw new TypeError(`column ${column} is ${typeof value}, expected text`);
  return value;
}

export function textOrNull(row: Row, column: string): string | null {
  const value = row[column];
  return value === null || value === undefined ? null : text(row, column);
}

/** integer columns come as numbers, bigint ones (times, counts) as strings; both within 2^53. */
export function int(row: Row, column: string): number {
  const value = row[column];
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && /^-?\d+$/.test(value)) return Number(value);
  throw new TypeError(`column ${column} is ${typeof value}, expected an integer`);
}

export function intOrNull(row: Row, column: string): number | null {
  const value = row[column];
  return value === null || value === undefined ? null : int(row, column);
}

function json<T>(row: Row, column: string): T {
  return JSON.parse(text(row, column)) as T;
}

function jsonOrNull<T>(row: Row, column: string): T | null {
  const value = textOrNull(row, column);
  return value === null ? null : (JSON.parse(value) as T);
}

export function toClaimed(row: Row): Claimed {
  const traceparent = textOrNull(row, 'traceparent');
  return {
    id: text(row, 'id'),
    flow: text(row, 'flow'),
    attempt: int(row, 'attempts'),
    idempotencyKey: text(row, 'idempotency_key'),
    ...(traceparent === null ? {} : { traceparent }),
    body: json<Json>(row, 'body'),
    headers: json<Record<string, string>>(row, 'headers'),
    meta: json<Record<string, Json>>(row, 'meta'),
    startStep: int(row, 'start_step'),
    lease: text(row, 'lease_token'),
    leaseUntil: int(row, 'lease_until'),
  };
}

export function toAttemptRecord(row: Row): AttemptRecord {
  const errorCode = textOrNull(row, 'error_code');
  const error = textOrNull(row, 'error');
  const response = jsonOrNull<ResponseSnapshot>(row, 'response');
  const idempotencyKey = textOrNull(row, 'idempotency_key');
  return {
    attempt: int(row, 'attempt'),
    startedAt: int(row, 'started_at'),
    durationMs: int(row, 'duration_ms'),
    outcome: text(row, 'outcome') as AttemptRecord['outcome'],
    ...(errorCode === null ? {} : { errorCode }),
    ...(error === null ? {} : { error }),
    ...(response === null ? {} : { response }),
    ...(idempotencyKey === null ? {} : { idempotencyKey }),
  };
}

export function toMessageRecord(row: Row, history: AttemptRecord[]): MessageRecord {
  return {
    id: text(row, 'id'),
    flow: text(row, 'flow'),
    state: text(row, 'state') as MessageState,
    idempotencyKey: text(row, 'idempotency_key'),
    dedupeKey: textOrNull(row, 'dedupe_key'),
    body: json<Json>(row, 'body'),
    headers: json<Record<string, string>>(row, 'headers'),
    meta: json<Record<string, Json>>(row, 'meta'),
    traceparent: textOrNull(row, 'traceparent'),
    startStep: int(row, 'start_step'),
    attempts: int(row, 'attempts'),
    replays: int(row, 'replays'),
    createdAt: int(row, 'created_at'),
    runAt: int(row, 'run_at'),
    updatedAt: int(row, 'updated_at'),
    leaseOwner: textOrNull(row, 'lease_owner'),
    leaseUntil: intOrNull(row, 'lease_until'),
    history,
  };
}

export function toDeadLetterSummary(row: Row): DeadLetterSummary {
  return {
    id: text(row, 'id'),
    flow: text(row, 'flow'),
    idempotencyKey: text(row, 'idempotency_key'),
    attempts: int(row, 'attempts'),
    errorCode: textOrNull(row, 'error_code') ?? '',
    error: textOrNull(row, 'error') ?? '',
    deadAt: int(row, 'dead_at'),
  };
}

export function toDeadLetter(row: Row, history: AttemptRecord[]): DeadLetter {
  return {
    ...toDeadLetterSummary(row),
    body: json<Json>(row, 'body'),
    headers: json<Record<string, string>>(row, 'headers'),
    meta: json<Record<string, Json>>(row, 'meta'),
    reason: jsonOrNull<string[]>(row, 'reason') ?? [],
    lastResponse: jsonOrNull<ResponseSnapshot>(row, 'last_response'),
    history,
    createdAt: int(row, 'created_at'),
    replays: int(row, 'replays'),
  };
}
