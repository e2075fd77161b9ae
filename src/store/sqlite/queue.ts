/**
 * @module store/sqlite/queue
 * The queue's operations as synchronous functions over prepared statements. The
 * caller supplies the transaction: group commit for writes, its own for claims.
 */
import { randomUUID } from 'node:crypto';
import { causeChain, errors } from '../../core/errors.ts';
import type { JunctionError } from '../../core/errors.ts';
import { newId } from '../../core/ids.ts';
import type { AttemptRecord, Json, NewMessage, Outcome } from '../../core/message.ts';
import { bodyDigest } from '../body-digest.ts';
import type { ClaimQuery, Claimed, EnqueueOptions, EnqueueResult, LeaseRef } from '../store.ts';
import type { Statements } from './sql.ts';
import { text, textOrNull, toClaimed, toJsonOrNull, toJsonText } from '../rows.ts';
import type { Row } from '../rows.ts';
import { checkNewMessage } from '../input.ts';

/** SQLite columns are STRICT integers; callers may compute fractional times. */
function ms(value: number): number {
  return Math.round(value);
}


/**
 * Inserts the batch; a dedupe key already in the flow (even earlier in this
 * transaction) yields the first id, or, with another body, throws
 * JNC_IDEMPOTENCY_KEY_REUSED (the caller's savepoint undoes the batch).
 */
export function enqueueMessages(st: Statements, batch: NewMessage[], now: number, opts: EnqueueOptions = {}): EnqueueResult[] {
  let leases = opts.claim === undefined ? 0 : Math.max(0, Math.floor(opts.claim.limit));
  return batch.map((m, index) => {
    checkNewMessage(m, index);
    // First: a body that cannot be JSON (a cycle) is refused as input before it is digested.
    const body = toJsonText(m.body, `message ${index}: body`);
    // A message without a dedupe key has its own new id as its key: nothing can reuse it, so no digest is needed.
    const digest = m.dedupeKey === undefined ? null : bodyDigest(m.body);
    if (m.dedupeKey !== undefined) {
      const first = st.findByDedupeKey.get({ flow: m.flow, dedupeKey: m.dedupeKey });
      if (first) {
        const id = text(first, 'id');
        if (opts.onKeyReuse !== 'keep-first' && storedDigest(st, first) !== digest) {
          throw errors.IDEMPOTENCY_KEY_REUSED.create([JSON.stringify(m.dedupeKey), m.flow], { details: { idempotencyKey: m.dedupeKey } });
        }
        return { id, duplicate: true };
      }
    }
    const id = newId();
    const runAt = ms(m.runAt ?? now);
    const columns = {
      id,
      flow: m.flow,
      body,
      headers: toJsonText(m.headers ?? {}, `message ${index}: headers`),
      meta: toJsonText(m.meta ?? {}, `message ${index}: meta`),
      traceparent: m.traceparent ?? null,
      idempotencyKey: m.dedupeKey ?? id,
      dedupeKey: m.dedupeKey ?? null,
      bodyDigest: digest,
      startStep: m.startStep ?? 0,
      now,
      runAt,
    };
    if (leases > 0 && runAt <= now && opts.claim !== undefined) {
      leases--;
      const lease = { token: randomUUID(), until: ms(now + opts.claim.leaseMs) };
      st.insertClaimed.run({ ...columns, worker: opts.claim.worker, lease: lease.token, leaseUntil: lease.until });
      return { id, duplicate: false, lease };
    }
    st.insertMessage.run(columns);
    return { id, duplicate: false };
  });
}

/** The digest kept with a dedupe key; for a row older than digests, computed from its body as stored. */
function storedDigest(st: Statements, row: Row): string {
  const kept = textOrNull(row, 'body_digest');
  if (kept !== null) return kept;
  const stored = st.selectBody.get({ id: text(row, 'id') }) as Row;
  return bodyDigest(JSON.parse(text(stored, 'body')) as Json);
}

/**
 * Leases due messages to `q.worker`. Must run inside an immediate transaction so
 * that selecting and leasing are one step for every connection to the file.
 */
export function claimMessages(st: Statements, q: ClaimQuery, now: number): Claimed[] {
  const limit = Math.max(0, Math.floor(q.limit));
  if (limit === 0) return [];
  const leaseUntil = ms(now + q.leaseMs);
  return st.selectDue.all({ now, limit }).map((due) => {
    const row = st.leaseMessage.get({ id: due.id ?? null, worker: q.worker, lease: randomUUID(), leaseUntil, now });
    return toClaimed(row as Row);
  });
}

function errorColumns(error: JunctionError): { errorCode: string | null; error: string } {
  return { errorCode: typeof error.code === 'string' ? error.code : null, error: error.message };
}

/** Writes the outcome if `ref` still holds the lease; false (and nothing written) otherwise. */
export function settleMessage(st: Statements, ref: LeaseRef, outcome: Outcome, attempt: AttemptRecord | null, now: number): boolean {
  const held = { id: ref.id, lease: ref.lease, now };
  let changes: number | bigint;
  switch (outcome.kind) {
    case 'ack':
      // The ack's attempt goes into the row by the same statement; no attempts row.
      changes = st.ackMessage.run({
        ...held,
        attempt: attempt?.attempt ?? null,
        startedAt: attempt === null ? null : ms(attempt.startedAt),
        durationMs: attempt === null ? null : ms(attempt.durationMs),
        idempotencyKey: attempt?.idempotencyKey ?? null,
      }).changes;
      return Number(changes) > 0;
    case 'retry':
      changes = st.retryMessage.run({
        ...held,
        ...errorColumns(outcome.error),
        runAt: ms(outcome.at),
        givenBack: outcome.spendAttempt ? 0 : 1,
        lastResponse: toJsonOrNull(outcome.lastResponse ?? outcome.error.response),
      }).changes;
      break;
    case 'dead':
      changes = st.killMessage.run({
        ...held,
        ...errorColumns(outcome.error),
        reason: JSON.stringify(causeChain(outcome.error)),
        lastResponse: toJsonOrNull(outcome.lastResponse ?? outcome.error.response),
      }).changes;
      break;
    default:
      throw new TypeError(`unknown outcome ${String((outcome as { kind: unknown }).kind)}`);
  }
  if (Number(changes) === 0) return false;
  if (attempt !== null) {
    st.insertAttempt.run({
      messageId: ref.id,
      attempt: attempt.attempt,
      startedAt: ms(attempt.startedAt),
      durationMs: ms(attempt.durationMs),
      outcome: attempt.outcome,
      errorCode: attempt.errorCode ?? null,
      error: attempt.error ?? null,
      response: toJsonOrNull(attempt.response),
      idempotencyKey: attempt.idempotencyKey ?? null,
    });
  }
  return true;
}

/** Pushes each held lease to `now + leaseMs`; returns the ids whose lease was still held. */
export function extendLeases(st: Statements, refs: LeaseRef[], leaseMs: number, now: number): string[] {
  const leaseUntil = ms(now + leaseMs);
  return refs.filter((ref) => Number(st.extendLease.run({ id: ref.id, lease: ref.lease, leaseUntil, now }).changes) > 0).map((ref) => ref.id);
}
