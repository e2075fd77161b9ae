/**
 * @module store/rows
 * Turns rows (snake_case columns, JSON as text) into the store's types and back,
 * for both stores: SQLite gives integers as numbers and pg gives its int8 columns
 * as strings, so an integer is read from either.
 */
import type { ResponseSnapshot } from '../core/call.ts';
import { errors } from '../core/errors.ts';
import type { AttemptRecord, Json } from '../core/message.ts';
import type { Claimed, DeadLetter, DeadLetterSummary, MessageRecord, MessageState, TokenRecord } from './store.ts';

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

export function int(row: Row, column: string): number {
  const value = row[column];
  if (typeof value === 'number') return value;
  // pg's int8 (times, counts), always within 2^53 here.
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

/** JSON text for a NOT NULL column; what JSON cannot hold (a cycle, a BigInt, undefined) is refused as input. */
export function toJsonText(value: unknown, what: string): string {
  let out: string | undefined;
  try {
    out = JSON.stringify(value);
  } catch (cause) {
    throw errors.INPUT_INVALID.create([`${what} cannot be stored as JSON`], { cause });
  }
  if (out === undefined) throw errors.INPUT_INVALID.create([`${what} cannot be stored as JSON`]);
  return out;
}

/** JSON text for a nullable column; `undefined` is stored as NULL. */
export function toJsonOrNull(value: unknown): string | null {
  return value === undefined || value === null ? null : JSON.stringify(value);
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

export function toTokenRecord(row: Row): TokenRecord {
  return {
    accessToken: text(row, 'access_token'),
    expiresAt: intOrNull(row, 'expires_at'),
    refreshToken: textOrNull(row, 'refresh_token'),
    obtainedAt: int(row, 'obtained_at'),
  };
}
