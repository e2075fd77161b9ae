/**
 * @module test/store/contract/fixture
 * What every contract section shares: how to get a store, and short ways to put a
 * message into a known state.
 */
import assert from 'node:assert/strict';
import { errors } from '../../../src/core/errors.ts';
import type { JunctionError } from '../../../src/core/errors.ts';
import type { ResponseSnapshot } from '../../../src/core/call.ts';
import type { AttemptRecord, NewMessage, Outcome } from '../../../src/core/message.ts';
import type { Claimed, Store } from '../../../src/store/store.ts';
import type { ManualClock } from '../../helpers/clock.ts';

export interface Fixture {
  /** Opens and migrates another store on this test's storage. */
  open(clock: ManualClock): Promise<Store>;
  /** A manual clock and a migrated store on fresh storage. */
  setup(): Promise<{ clock: ManualClock; store: Store }>;
}

/** Registers one contract test; the title states the behaviour and is what `skip` matches. */
export type ContractTest = (title: string, fn: (fx: Fixture) => Promise<void>) => void;

export const FLOW = 'orders-to-crm';
export const OTHER_FLOW = 'orders-to-erp';
export const LEASE_MS = 30_000;

export const RESPONSE: ResponseSnapshot = {
  status: 422,
  headers: { 'content-type': 'application/json' },
  bodyExcerpt: '{"error":"email is missing"}',
};

export function permanentError(response?: ResponseSnapshot): JunctionError {
  return errors.HTTP_REJECTED.create(['crm', 422], { cause: new Error('email is missing'), response });
}

export function transientError(): JunctionError {
  return errors.HTTP_RETRYABLE.create(['crm', 503]);
}

export function message(over: Partial<NewMessage> = {}): NewMessage {
  return { flow: FLOW, body: { orderId: 1 }, ...over };
}

export async function enqueueOne(store: Store, over: Partial<NewMessage> = {}): Promise<string> {
  const [result] = await store.enqueue([message(over)]);
  assert.ok(result);
  return result.id;
}

/** Claims exactly one message and fails the test otherwise. */
export async function claimOne(store: Store, worker = 'worker-1', leaseMs = LEASE_MS): Promise<Claimed> {
  const claimed = await store.claim({ worker, limit: 1, leaseMs });
  assert.equal(claimed.length, 1, 'expected one message to be due');
  return claimed[0] as Claimed;
}

/** The attempt record a worker would write for `claimed`. */
export function attemptRecord(claimed: Claimed, clock: ManualClock, outcome: Outcome): AttemptRecord {
  const record: AttemptRecord = { attempt: claimed.attempt, startedAt: clock.now(), durationMs: 12, outcome: outcome.kind };
  if (outcome.kind !== 'ack') {
    record.errorCode = outcome.error.code;
    record.error = outcome.error.message;
    if (outcome.lastResponse) record.response = outcome.lastResponse;
  }
  return record;
}

/** Claims the oldest due message and settles it with `outcome`, with its attempt record. */
export async function claimAndSettle(store: Store, clock: ManualClock, outcome: Outcome): Promise<Claimed> {
  const claimed = await claimOne(store);
  assert.equal(await store.settle(claimed, outcome, attemptRecord(claimed, clock, outcome)), true);
  return claimed;
}

/** Enqueues a message and turns it into a dead letter; nothing else may be due. */
export async function deadLetter(store: Store, clock: ManualClock, over: Partial<NewMessage> = {}): Promise<string> {
  const id = await enqueueOne(store, over);
  const claimed = await claimAndSettle(store, clock, { kind: 'dead', error: permanentError(), lastResponse: RESPONSE });
  assert.equal(claimed.id, id);
  return id;
}

export async function assertRejectsWith(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (e: unknown) => {
    assert.equal((e as { code?: unknown }).code, code);
    return true;
  });
}
