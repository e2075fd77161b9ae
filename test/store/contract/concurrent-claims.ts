/**
 * @module test/store/contract/concurrent-claims
 * Concurrent claimers, on one store and on a second store on the same storage,
 * never hold the same message: each is held by exactly one claimer until it is
 * settled or its lease runs out, and a stale lease can settle nothing once the
 * message was claimed again.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Claimed, LeaseRef, Store } from '../../../src/store/store.ts';
import { LEASE_MS, message, transientError } from './fixture.ts';
import type { ContractTest } from './fixture.ts';

const LIMITS = { numRuns: 15, interruptAfterTimeLimit: 8_000 };
const MAX_ROUNDS = 40;

type Action = 'ack' | 'retry' | 'keep';

interface Scenario {
  messages: number;
  /** One entry per claimer: which store it claims on, and its limit. */
  claimers: { store: 0 | 1; limit: number }[];
  /** What happens to the n-th message held at the end of a round, cycling. */
  actions: Action[];
  /** Every this many rounds, every lease runs out (their holders are presumed dead). */
  expireEvery: number;
}

const scenario: fc.Arbitrary<Scenario> = fc.record({
  messages: fc.integer({ min: 1, max: 60 }),
  claimers: fc.array(fc.record({ store: fc.constantFrom<0 | 1>(0, 1), limit: fc.integer({ min: 1, max: 12 }) }), { minLength: 2, maxLength: 8 }),
  actions: fc.array(fc.constantFrom<Action>('ack', 'retry', 'keep'), { minLength: 1, maxLength: 12 }),
  expireEvery: fc.integer({ min: 2, max: 6 }),
});

/** Every claimer claims at once; the results, one list per claimer. */
function claimTogether(stores: Store[], s: Scenario): Promise<Claimed[][]> {
  return Promise.all(s.claimers.map((c, i) => (stores[c.store] as Store).claim({ worker: `w${i}-s${c.store}`, limit: c.limit, leaseMs: LEASE_MS })));
}

export function concurrentClaimTests(test: ContractTest): void {
  test('concurrent claimers on two stores never hold the same message until it is settled or its lease runs out', async ({ setup, open }) => {
    const { clock, store } = await setup();
    const stores = [store, await open(clock)];
    let acked = 0;

    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const ids = new Set((await store.enqueue(Array.from({ length: s.messages }, (_, n) => message({ body: { n } })))).map((r) => r.id));
        /** Messages held now, by id, with the lease that holds them. */
        const held = new Map<string, LeaseRef>();
        /** Leases that ran out; once their message is claimed again, they must settle nothing. */
        const stale = new Map<string, LeaseRef>();
        const done = new Set<string>();
        let next = 0;

        for (let round = 1; done.size < ids.size && round <= MAX_ROUNDS; round++) {
          const staleSettles: Promise<boolean>[] = [];
          for (const claimed of (await claimTogether(stores, s)).flat()) {
            assert.ok(ids.has(claimed.id), `claimed ${claimed.id}, not a message of this run`);
            assert.ok(!held.has(claimed.id), `${claimed.id} was claimed while another claimer held it`);
            assert.ok(!done.has(claimed.id), `${claimed.id} was claimed after it was acked`);
            held.set(claimed.id, { id: claimed.id, lease: claimed.lease });
            const old = stale.get(claimed.id);
            if (old) staleSettles.push(store.settle(old, { kind: 'ack' }, null));
            stale.delete(claimed.id);
          }
          for (const settled of await Promise.all(staleSettles)) assert.equal(settled, false, 'a lease that ran out settles nothing once the message is claimed again');

          // The holders settle together, as workers do, each through either store.
          const settles: Promise<boolean>[] = [];
          for (const [id, ref] of held) {
            const action = s.actions[next++ % s.actions.length];
            if (action === 'keep') continue;
            const outcome = action === 'ack' ? ({ kind: 'ack' } as const) : ({ kind: 'retry', at: clock.now(), error: transientError(), spendAttempt: true } as const);
            settles.push((stores[next % 2] as Store).settle(ref, outcome, null));
            held.delete(id);
            if (action === 'ack') done.add(id);
          }
          for (const settled of await Promise.all(settles)) assert.equal(settled, true, 'the holder of a message settles it');
          if (round % s.expireEvery === 0) {
            clock.advance(LEASE_MS + 1);
            for (const [id, ref] of held) stale.set(id, ref);
            held.clear();
          }
        }

        // Whatever the actions left unfinished: let every lease run out, then one claimer takes and acks it all.
        clock.advance(LEASE_MS + 1);
        const rest = await store.claim({ worker: 'sweeper', limit: ids.size, leaseMs: LEASE_MS });
        assert.deepEqual(new Set(rest.map((c) => c.id)), new Set([...ids].filter((id) => !done.has(id))));
        assert.ok((await Promise.all(rest.map((c) => store.settle(c, { kind: 'ack' }, null)))).every(Boolean));
        acked += ids.size;
        assert.deepEqual(await store.stats(), { queued: 0, running: 0, done: acked, dead: 0 });
      }),
      LIMITS,
    );
  });

  test('many claims at once over many messages hand out each message exactly once', async ({ setup, open }) => {
    const { clock, store } = await setup();
    const stores = [store, await open(clock)];
    const total = 500;
    const enqueued = await store.enqueue(Array.from({ length: total }, (_, n) => message({ body: { n } })));
    const seen = new Map<string, string>();
    // Twenty claimers, ten on each store, each asking for up to 9 at a time, until the queue is empty.
    for (let got = -1; got !== 0; ) {
      const rounds = await Promise.all(
        Array.from({ length: 20 }, (_, i) => (stores[i % 2] as Store).claim({ worker: `w${i}`, limit: 9, leaseMs: LEASE_MS }).then((c) => c.map((m) => [m.id, `w${i}`] as const))),
      );
      got = 0;
      for (const [id, worker] of rounds.flat()) {
        assert.equal(seen.get(id), undefined, `${id} went to ${seen.get(id)} and to ${worker}`);
        seen.set(id, worker);
        got++;
      }
    }
    assert.equal(seen.size, total);
    assert.deepEqual(new Set(seen.keys()), new Set(enqueued.map((r) => r.id)));
    assert.deepEqual(await store.stats(), { queued: 0, running: total, done: 0, dead: 0 });
  });
}
