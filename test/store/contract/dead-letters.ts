/**
 * @module test/store/contract/dead-letters
 * deadLetters: list, get, count, replay and purge.
 */
import assert from 'node:assert/strict';
import { assertRejectsWith, claimAndSettle, claimOne, deadLetter, enqueueOne, LEASE_MS, message, OTHER_FLOW, permanentError, transientError } from './fixture.ts';
import type { Store } from '../../../src/store/store.ts';
import type { ManualClock } from '../../helpers/clock.ts';
import type { ContractTest } from './fixture.ts';

/** A dead letter whose last error was a retryable one that ran out of attempts (code JNC_HTTP_RETRYABLE). */
async function exhausted(store: Store, clock: ManualClock, over: Parameters<typeof message>[0] = {}): Promise<string> {
  const id = await enqueueOne(store, over);
  const claimed = await claimAndSettle(store, clock, { kind: 'dead', error: transientError() });
  assert.equal(claimed.id, id);
  return id;
}

/**
 * Six dead letters over three seconds: at t0 a (flow, rejected), b (other flow,
 * rejected); at t0+1s c (flow, retryable), d (other, retryable); at t0+2s e
 * (flow, rejected), f (other, retryable).
 */
async function mixed(store: Store, clock: ManualClock): Promise<{ t0: number; ids: Record<'a' | 'b' | 'c' | 'd' | 'e' | 'f', string> }> {
  const t0 = clock.now();
  const a = await deadLetter(store, clock, { body: { n: 'a' } });
  const b = await deadLetter(store, clock, { flow: OTHER_FLOW, body: { n: 'b' } });
  clock.advance(1000);
  const c = await exhausted(store, clock, { body: { n: 'c' } });
  const d = await exhausted(store, clock, { flow: OTHER_FLOW, body: { n: 'd' } });
  clock.advance(1000);
  const e = await deadLetter(store, clock, { body: { n: 'e' } });
  const f = await exhausted(store, clock, { flow: OTHER_FLOW, body: { n: 'f' } });
  return { t0, ids: { a, b, c, d, e, f } };
}

export function deadLetterTests(test: ContractTest): void {
  test('list and count filter by error code, by time (since inclusive, until exclusive) and by all of them with the flow', async ({ setup }) => {
    const { clock, store } = await setup();
    const { t0, ids } = await mixed(store, clock);
    const listed = async (q: Parameters<Store['deadLetters']['list']>[0]): Promise<string[]> => (await store.deadLetters.list(q)).map((d) => d.id);
    const RETRYABLE = transientError().code;
    assert.deepEqual(await listed({ code: RETRYABLE }), [ids.f, ids.d, ids.c]);
    assert.equal(await store.deadLetters.count({ code: RETRYABLE }), 3);
    assert.equal(await store.deadLetters.count({ code: 'JNC_NO_SUCH_CODE' }), 0);
    assert.deepEqual(new Set(await listed({ since: t0 + 1000 })), new Set([ids.c, ids.d, ids.e, ids.f]));
    assert.deepEqual(new Set(await listed({ until: t0 + 1000 })), new Set([ids.a, ids.b]));
    assert.deepEqual(new Set(await listed({ since: t0 + 1000, until: t0 + 2000 })), new Set([ids.c, ids.d]));
    assert.deepEqual(await listed({ flow: OTHER_FLOW, code: RETRYABLE, since: t0 + 1000, until: t0 + 2001 }), [ids.f, ids.d]);
    assert.equal(await store.deadLetters.count({ flow: OTHER_FLOW, code: RETRYABLE, since: t0 + 1000 }), 2);
    assert.equal(await store.deadLetters.count({ flow: message().flow, until: t0 + 1 }), 1);
    assert.equal(await store.deadLetters.count({}), 6);
  });

  test('a filtered list pages with limit and before, each page newest first, none skipped or repeated', async ({ setup }) => {
    const { clock, store } = await setup();
    const { ids } = await mixed(store, clock);
    const pages: string[][] = [];
    let before: string | undefined;
    for (;;) {
      const page = await store.deadLetters.list({ flow: message().flow, limit: 2, ...(before ? { before } : {}) });
      if (page.length === 0) break;
      pages.push(page.map((d) => d.id));
      before = page.at(-1)?.id;
    }
    assert.deepEqual(pages, [[ids.e, ids.c], [ids.a]]);
    await assertRejectsWith(store.deadLetters.list({ before: '01890000-0000-7000-8000-000000000000' }), 'JNC_DEAD_LETTER_UNKNOWN');
  });

  test('replay and purge by filter touch exactly what the filter matches', async ({ setup }) => {
    const { clock, store } = await setup();
    const { t0, ids } = await mixed(store, clock);
    const RETRYABLE = transientError().code;
    assert.deepEqual(await store.deadLetters.replay({ filter: { code: RETRYABLE, since: t0 + 1000, until: t0 + 2000 } }), [ids.c, ids.d].sort());
    assert.equal((await store.getMessage(ids.c))?.state, 'queued');
    assert.equal((await store.getMessage(ids.f))?.state, 'dead');
    assert.equal(await store.deadLetters.purge({ filter: { flow: OTHER_FLOW } }), 2);
    assert.equal(await store.getMessage(ids.b), undefined);
    assert.equal(await store.getMessage(ids.f), undefined);
    assert.equal((await store.getMessage(ids.d))?.state, 'queued', 'a replayed message is no longer a dead letter, so purge leaves it');
    assert.deepEqual(await store.deadLetters.replay({ filter: {} }), [ids.a, ids.e].sort());
    assert.equal(await store.deadLetters.count(), 0);
  });

  test('list is newest first, and each entry summarises the dead letter', async ({ setup }) => {
    const { clock, store } = await setup();
    const a = await deadLetter(store, clock);
    clock.advance(1000);
    const b = await deadLetter(store, clock, { dedupeKey: 'order-b' });
    const list = await store.deadLetters.list();
    assert.deepEqual(
      list.map((d) => d.id),
      [b, a],
    );
    assert.deepEqual(list[0], {
      id: b,
      flow: message().flow,
      idempotencyKey: 'order-b',
      attempts: 1,
      errorCode: 'JNC_HTTP_REJECTED',
      error: permanentError().message,
      deadAt: clock.now(),
    });
  });

  test('list pages with limit and before, in the same order, ties broken by id', async ({ setup }) => {
    const { clock, store } = await setup();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push(await deadLetter(store, clock, { body: { i } }));
      if (i % 2 === 1) clock.advance(1000); // pairs die in the same millisecond
    }
    const newestFirst = [...ids].reverse();
    const pages: string[][] = [];
    let before: string | undefined;
    for (;;) {
      const page = await store.deadLetters.list({ limit: 2, ...(before ? { before } : {}) });
      if (page.length === 0) break;
      pages.push(page.map((d) => d.id));
      before = page.at(-1)?.id;
    }
    assert.deepEqual(pages, [newestFirst.slice(0, 2), newestFirst.slice(2, 4), newestFirst.slice(4)]);
    assert.deepEqual(
      (await store.deadLetters.list()).map((d) => d.id),
      newestFirst,
    );
  });

  test('list returns at most 50 by default', async ({ setup }) => {
    const { clock, store } = await setup();
    await store.enqueue(Array.from({ length: 51 }, (_, i) => message({ body: { i } })));
    const claimed = await store.claim({ worker: 'w', limit: 51, leaseMs: LEASE_MS });
    await Promise.all(claimed.map((c) => store.settle(c, { kind: 'dead', error: permanentError() }, null)));
    clock.advance(1);
    assert.equal((await store.deadLetters.list()).length, 50);
    assert.equal(await store.deadLetters.count(), 51);
  });

  test('list and count filter by flow', async ({ setup }) => {
    const { clock, store } = await setup();
    await deadLetter(store, clock);
    const other = await deadLetter(store, clock, { flow: OTHER_FLOW });
    assert.deepEqual(
      (await store.deadLetters.list({ flow: OTHER_FLOW })).map((d) => d.id),
      [other],
    );
    assert.equal(await store.deadLetters.count(OTHER_FLOW), 1);
    assert.equal(await store.deadLetters.count(), 2);
    assert.equal(await store.deadLetters.count('no-such-flow'), 0);
  });

  test('get resolves undefined for unknown ids and for messages that are not dead', async ({ setup }) => {
    const { store } = await setup();
    const queued = await enqueueOne(store);
    assert.equal(await store.deadLetters.get(queued), undefined);
    assert.equal(await store.deadLetters.get('01890000-0000-7000-8000-000000000000'), undefined);
  });

  test('replay moves dead letters back to the queue, due now, with attempts reset, keeping id, body, key and history', async ({ setup }) => {
    const { clock, store } = await setup();
    const id = await deadLetter(store, clock, { body: { orderId: 'A-1' }, dedupeKey: 'order-A-1' });
    const before = await store.getMessage(id);
    clock.advance(60_000);
    assert.deepEqual(await store.deadLetters.replay({ ids: [id] }), [id]);
    const after = await store.getMessage(id);
    assert.ok(after && before);
    assert.equal(after.state, 'queued');
    assert.equal(after.runAt, clock.now());
    assert.equal(after.attempts, 0);
    assert.equal(after.replays, 1);
    assert.equal(after.leaseOwner, null);
    assert.equal(after.idempotencyKey, 'order-A-1');
    assert.deepEqual(after.body, before.body);
    assert.deepEqual(after.history, before.history);
    assert.equal(await store.deadLetters.get(id), undefined, 'a replayed message is no longer a dead letter');
    assert.equal(await store.deadLetters.count(), 0);
    const claimed = await claimOne(store);
    assert.equal(claimed.id, id);
    assert.equal(claimed.attempt, 1);
    assert.equal(claimed.idempotencyKey, 'order-A-1');
  });

  test('replay skips unknown ids and messages that are not dead', async ({ setup }) => {
    const { clock, store } = await setup();
    const dead = await deadLetter(store, clock);
    const queued = await enqueueOne(store);
    assert.deepEqual(await store.deadLetters.replay({ ids: ['01890000-0000-7000-8000-000000000000', queued, dead] }), [dead]);
    assert.equal((await store.getMessage(queued))?.replays, 0);
  });

  test('replay by flow touches only that flow; replay all touches every flow', async ({ setup }) => {
    const { clock, store } = await setup();
    const a1 = await deadLetter(store, clock);
    const b1 = await deadLetter(store, clock, { flow: OTHER_FLOW });
    const a2 = await deadLetter(store, clock);
    assert.deepEqual(await store.deadLetters.replay({ flow: OTHER_FLOW }), [b1]);
    assert.equal((await store.getMessage(a1))?.state, 'dead');
    assert.deepEqual((await store.deadLetters.replay({ all: true })).sort(), [a1, a2].sort());
    assert.deepEqual(await store.stats(), { queued: 3, running: 0, done: 0, dead: 0 });
  });

  test('a replayed message that dies again keeps its whole history', async ({ setup }) => {
    const { clock, store } = await setup();
    const id = await deadLetter(store, clock);
    await store.deadLetters.replay({ ids: [id] });
    await claimAndSettle(store, clock, { kind: 'dead', error: permanentError() });
    const dead = await store.deadLetters.get(id);
    assert.equal(dead?.replays, 1);
    assert.equal(dead?.attempts, 1);
    assert.deepEqual(
      dead?.history.map((h) => [h.attempt, h.outcome]),
      [
        [1, 'dead'],
        [1, 'dead'],
      ],
    );
  });

  test('purge deletes the selected dead letters for good and resolves with how many', async ({ setup }) => {
    const { clock, store } = await setup();
    const a1 = await deadLetter(store, clock);
    const a2 = await deadLetter(store, clock);
    const b1 = await deadLetter(store, clock, { flow: OTHER_FLOW });
    const b2 = await deadLetter(store, clock, { flow: OTHER_FLOW });
    const c = await deadLetter(store, clock, { flow: 'third-flow' });
    assert.equal(await store.deadLetters.purge({ ids: [a1, '01890000-0000-7000-8000-000000000000'] }), 1);
    assert.equal(await store.getMessage(a1), undefined);
    assert.equal(await store.deadLetters.get(a1), undefined);
    assert.equal(await store.deadLetters.purge({ flow: OTHER_FLOW }), 2);
    assert.equal(await store.getMessage(b1), undefined);
    assert.equal(await store.getMessage(b2), undefined);
    assert.equal(await store.deadLetters.purge({ all: true }), 2);
    assert.equal(await store.getMessage(a2), undefined);
    assert.equal(await store.getMessage(c), undefined);
    assert.equal(await store.deadLetters.count(), 0);
  });

  test('purge leaves messages that are not dead alone', async ({ setup }) => {
    const { clock, store } = await setup();
    await enqueueOne(store);
    const running = await claimOne(store);
    await enqueueOne(store);
    const done = await claimAndSettle(store, clock, { kind: 'ack' });
    const queued = await enqueueOne(store);
    assert.equal(await store.deadLetters.purge({ ids: [queued, running.id, done.id] }), 0);
    assert.equal(await store.deadLetters.purge({ all: true }), 0);
    assert.deepEqual(await store.stats(), { queued: 1, running: 1, done: 1, dead: 0 });
  });
}
