/**
 * @module store/postgres/queue
 * The queue's operations on PostgreSQL: enqueue in one transaction of a few
 * statements whatever the batch size, claim and settle in one statement each.
 */
import { randomUUID } from 'node:crypto';
import { causeChain, errors } from '../../core/errors.ts';
import type { JunctionError } from '../../core/errors.ts';
import { newId } from '../../core/ids.ts';
import type { AttemptRecord, Json, NewMessage, Outcome } from '../../core/message.ts';
import { bodyDigest } from '../body-digest.ts';
import type { ClaimQuery, Claimed, EnqueueOptions, EnqueueResult, LeaseRef } from '../store.ts';
import type { Queryable } from './connection.ts';
import { text, textOrNull, toClaimed, toJsonOrNull, toJsonText } from '../rows.ts';
import type { Row } from '../rows.ts';
import { checkNewMessage } from '../input.ts';
import { sql, withAttempt } from './sql.ts';

/** Columns are bigint milliseconds; callers may compute fractional times. */
function ms(value: number): number {
  return Math.round(value);
}

/** PostgreSQL text cannot hold U+0000; JSON columns escape it, plain ones would fail as a server error. */
function checkText(value: string | undefined, what: string): void {
  if (value?.includes('\u0000')) throw errors.INPUT_INVALID.create([`${what} must not contain U+0000`]);
}


/** A message of the batch as it will be inserted; computed before the transaction, so a retry repeats nothing. */
interface Prepared {
  index: number;
  flow: string;
  dedupeKey: string | null;
  digest: string | null;
  body: string;
  headers: string;
  meta: string;
  traceparent: string | null;
  startStep: number;
  runAt: number;
}

/** Checks and serialises the batch: what cannot be stored is refused before anything is written. */
export function prepareBatch(batch: NewMessage[], now: number): Prepared[] {
  return batch.map((m, index) => {
    checkNewMessage(m, index);
    checkText(m.flow, `message ${index}: flow`);
    checkText(m.dedupeKey, `message ${index}: the dedupe key`);
    checkText(m.traceparent, `message ${index}: traceparent`);
    // First: a body that cannot be JSON (a cycle) is refused as input before it is digested.
    const body = toJsonText(m.body, `message ${index}: body`);
    return {
      index,
      flow: m.flow,
      dedupeKey: m.dedupeKey ?? null,
      // A message without a dedupe key has its own new id as its key: nothing can reuse it, so no digest is needed.
      digest: m.dedupeKey === undefined ? null : bodyDigest(m.body),
      body,
      headers: toJsonText(m.headers ?? {}, `message ${index}: headers`),
      meta: toJsonText(m.meta ?? {}, `message ${index}: meta`),
      traceparent: m.traceparent ?? null,
      startStep: m.startStep ?? 0,
      runAt: ms(m.runAt ?? now),
    };
  });
}

const keyOf = (flow: string, dedupeKey: string): string => JSON.stringify([flow, dedupeKey]);

function refuse(p: Prepared): JunctionError {
  return errors.IDEMPOTENCY_KEY_REUSED.create([JSON.stringify(p.dedupeKey), p.flow], { details: { idempotencyKey: p.dedupeKey } });
}

/** The digest kept with a dedupe key; for a row written without one, computed from its body. */
function storedDigest(row: Row): string {
  return textOrNull(row, 'body_digest') ?? bodyDigest(JSON.parse(text(row, 'body')) as Json);
}

/**
 * Inserts the prepared batch inside the caller's transaction. A dedupe key
 * already stored (or earlier in the batch) yields the first id; with another
 * body it throws JNC_IDEMPOTENCY_KEY_REUSED, and the caller's rollback undoes the batch.
 */
export async function enqueueMessages(tx: Queryable, batch: Prepared[], now: number, opts: EnqueueOptions = {}): Promise<EnqueueResult[]> {
  const keepFirst = opts.onKeyReuse === 'keep-first';
  const results: (EnqueueResult | undefined)[] = new Array<EnqueueResult | undefined>(batch.length);

  /** The first message of each key in the batch; later ones with that key are its duplicates. */
  const firstOfKey = new Map<string, Prepared>();
  const repeats = new Set<Prepared>();
  for (const p of batch) {
    if (p.dedupeKey === null) continue;
    const key = keyOf(p.flow, p.dedupeKey);
    const first = firstOfKey.get(key);
    if (first === undefined) firstOfKey.set(key, p);
    else {
      if (!keepFirst && first.digest !== p.digest) throw refuse(p);
      repeats.add(p);
    }
  }

  // Keys stored before this transaction: duplicates, or refused.
  const stored = await findStored(tx, [...firstOfKey.values()]);
  for (const p of firstOfKey.values()) {
    const row = stored.get(keyOf(p.flow, p.dedupeKey as string));
    if (row === undefined) continue;
    if (!keepFirst && storedDigest(row) !== p.digest) throw refuse(p);
    results[p.index] = { id: text(row, 'id'), duplicate: true };
  }

  // The rest are new. Leases go to the first `claim.limit` of them that are due now.
  let leases = opts.claim === undefined ? 0 : Math.max(0, Math.floor(opts.claim.limit));
  const leaseUntil = opts.claim === undefined ? 0 : ms(now + opts.claim.leaseMs);
  const fresh: { p: Prepared; id: string; lease: string | null }[] = [];
  for (const p of batch) {
    if (results[p.index] !== undefined || repeats.has(p)) continue;
    let lease: string | null = null;
    if (leases > 0 && p.runAt <= now) {
      leases--;
      lease = randomUUID();
    }
    fresh.push({ p, id: newId(), lease });
  }

  if (fresh.length > 0) {
    // Sorted by key, so that two transactions inserting the same keys lock them in one order.
    const rows = [...fresh].sort((a, b) => compareKeys(a.p, b.p));
    const col = <T>(f: (r: (typeof rows)[number]) => T): T[] => rows.map(f);
    const inserted = await tx.query(sql.insertMessages, [
      col((r) => r.id),
      col((r) => r.p.flow),
      col((r) => (r.lease === null ? 'queued' : 'running')),
      col((r) => r.p.body),
      col((r) => r.p.headers),
      col((r) => r.p.meta),
      col((r) => r.p.traceparent),
      col((r) => r.p.dedupeKey ?? r.id),
      col((r) => r.p.dedupeKey),
      col((r) => r.p.digest),
      col((r) => r.p.startStep),
      col((r) => r.p.runAt),
      col((r) => (r.lease === null ? null : opts.claim?.worker)),
      col((r) => r.lease),
      now,
      col((r) => (r.lease === null ? null : leaseUntil)),
    ]);
    const created = new Set(inserted.rows.map((r) => text(r, 'id')));
    // A key another transaction committed after our lookup: that message is the first, and ours a duplicate of it.
    const lost = fresh.filter((f) => !created.has(f.id));
    const winners = lost.length === 0 ? new Map<string, Row>() : await findStored(tx, lost.map((f) => f.p));
    for (const { p, id, lease } of fresh) {
      if (created.has(id)) {
        results[p.index] = lease === null ? { id, duplicate: false } : { id, duplicate: false, lease: { token: lease, until: leaseUntil } };
        continue;
      }
      const row = winners.get(keyOf(p.flow, p.dedupeKey as string));
      if (row === undefined) throw new Error(`message ${p.index} was neither inserted nor found under its dedupe key`);
      if (!keepFirst && storedDigest(row) !== p.digest) throw refuse(p);
      results[p.index] = { id: text(row, 'id'), duplicate: true };
    }
  }

  for (const p of repeats) {
    const first = firstOfKey.get(keyOf(p.flow, p.dedupeKey as string)) as Prepared;
    results[p.index] = { id: (results[first.index] as EnqueueResult).id, duplicate: true };
  }
  return results as EnqueueResult[];
}

function compareKeys(a: Prepared, b: Prepared): number {
  if (a.flow !== b.flow) return a.flow < b.flow ? -1 : 1;
  const ka = a.dedupeKey ?? '';
  const kb = b.dedupeKey ?? '';
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/** Messages already stored under the dedupe keys of `batch`, by {@link keyOf}. */
async function findStored(tx: Queryable, batch: Prepared[]): Promise<Map<string, Row>> {
  const keyed = batch.filter((p) => p.dedupeKey !== null);
  if (keyed.length === 0) return new Map();
  const { rows } = await tx.query(sql.findByDedupeKeys, [keyed.map((p) => p.flow), keyed.map((p) => p.dedupeKey)]);
  return new Map(rows.map((row) => [keyOf(text(row, 'flow'), text(row, 'dedupe_key')), row]));
}

/** Leases due messages to `q.worker`, oldest `runAt` first (then id, which is creation order). */
export async function claimMessages(db: Queryable, q: ClaimQuery, now: number): Promise<Claimed[]> {
  const limit = Math.max(0, Math.floor(q.limit));
  if (limit === 0) return [];
  const { rows } = await db.query(sql.claim, [now, limit, q.worker, ms(now + q.leaseMs)]);
  // RETURNING has no order of its own.
  return rows
    .map((row) => ({ row, runAt: Number(row.run_at), id: text(row, 'id') }))
    .sort((a, b) => a.runAt - b.runAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map(({ row }) => toClaimed(row));
}

function errorColumns(error: JunctionError): [string | null, string] {
  return [typeof error.code === 'string' ? error.code : null, error.message];
}

/** Writes the outcome if `ref` still holds the lease, with its attempt, in one statement; false (nothing written) otherwise. */
export async function settleMessage(db: Queryable, ref: LeaseRef, outcome: Outcome, attempt: AttemptRecord | null, now: number): Promise<boolean> {
  const held = [ref.id, ref.lease, now];
  let params: unknown[];
  switch (outcome.kind) {
    case 'ack':
      // The ack's attempt goes into the row by the same statement; no attempts row.
      params = [...held, attempt?.attempt ?? null, attempt === null ? null : ms(attempt.startedAt), attempt === null ? null : ms(attempt.durationMs), attempt?.idempotencyKey ?? null];
      return ((await db.query(sql.settle.ack, params)).rowCount ?? 0) > 0;
    case 'retry':
      params = [...held, ms(outcome.at), outcome.spendAttempt ? 0 : 1, ...errorColumns(outcome.error), toJsonOrNull(outcome.lastResponse ?? outcome.error.response)];
      break;
    case 'dead':
      params = [...held, ...errorColumns(outcome.error), JSON.stringify(causeChain(outcome.error)), toJsonOrNull(outcome.lastResponse ?? outcome.error.response)];
      break;
    default:
      throw new TypeError(`unknown outcome ${String((outcome as { kind: unknown }).kind)}`);
  }
  if (attempt === null) return ((await db.query(sql.settle[outcome.kind], params)).rowCount ?? 0) > 0;
  const { rowCount } = await db.query(withAttempt(outcome.kind), [
    ...params,
    attempt.attempt,
    ms(attempt.startedAt),
    ms(attempt.durationMs),
    attempt.outcome,
    attempt.errorCode ?? null,
    attempt.error ?? null,
    toJsonOrNull(attempt.response),
    attempt.idempotencyKey ?? null,
  ]);
  return (rowCount ?? 0) > 0;
}

/** Pushes each held lease to `now + leaseMs`; the ids whose lease was still held, in the order of `refs`. */
export async function extendLeases(db: Queryable, refs: LeaseRef[], leaseMs: number, now: number): Promise<string[]> {
  const { rows } = await db.query(sql.extendLeases, [refs.map((r) => r.id), refs.map((r) => r.lease), ms(now + leaseMs), now]);
  const held = new Set(rows.map((r) => text(r, 'id')));
  return refs.filter((r) => held.has(r.id)).map((r) => r.id);
}
