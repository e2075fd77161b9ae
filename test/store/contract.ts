/**
 * @module test/store/contract
 * The Store contract (the TSDoc in `src/store/store.ts`) as executable tests. Each
 * implementation's test file calls {@link storeContract}, then adds only the tests
 * that are about its own dialect.
 */
import { afterEach, describe, it } from 'node:test';
import type { Store } from '../../src/store/store.ts';
import { ManualClock } from '../helpers/clock.ts';
import { checkpointTests } from './contract/checkpoints.ts';
import { claimTests } from './contract/claim.ts';
import { concurrentClaimTests } from './contract/concurrent-claims.ts';
import { deadLetterTests } from './contract/dead-letters.ts';
import { enqueueTests } from './contract/enqueue.ts';
import { enqueueClaimTests } from './contract/enqueue-claim.ts';
import { exclusiveTests } from './contract/exclusive.ts';
import type { ContractTest, Fixture } from './contract/fixture.ts';
import { keyReuseTests } from './contract/key-reuse.ts';
import { leaseAndReadTests } from './contract/leases-and-reads.ts';
import { lifecycleTests } from './contract/lifecycle.ts';
import { retentionTests } from './contract/retention.ts';
import { settleTests } from './contract/settle.ts';
import { tokenTests } from './contract/tokens.ts';

/**
 * Opens a store on this test's storage, not yet migrated. Every call within one
 * test must reach the same storage (so a second store sees what the first
 * committed); each test needs fresh storage, so create it in a `beforeEach`.
 */
export type MakeStore = (clock: ManualClock) => Promise<Store>;

export interface ContractOptions {
  /** Tests this implementation cannot run yet; each is skipped with its reason printed. */
  skip?: { test: string; reason: string }[];
}

export function storeContract(name: string, makeStore: MakeStore, opts: ContractOptions = {}): void {
  describe(`Store contract: ${name}`, () => {
    let opened: Store[] = [];

    afterEach(async () => {
      // close() is idempotent, so stores a test closed itself are fine here too.
      await Promise.allSettled(opened.map((store) => store.close()));
      opened = [];
    });

    const fixture: Fixture = {
      async open(clock) {
        const store = await makeStore(clock);
        opened.push(store);
        await store.migrate();
        return store;
      },
      async setup() {
        const clock = new ManualClock();
        return { clock, store: await fixture.open(clock) };
      },
    };

    const test: ContractTest = (title, fn) => {
      const skip = opts.skip?.find((s) => s.test === title);
      it(title, skip ? { skip: skip.reason } : {}, () => fn(fixture));
    };

    describe('lifecycle', () => lifecycleTests(test));
    describe('enqueue', () => enqueueTests(test));
    describe('enqueue with claim', () => enqueueClaimTests(test));
    describe('claim', () => claimTests(test));
    describe('settle', () => settleTests(test));
    describe('extendLease, getMessage, stats, nextRunAt, oldestDue', () => leaseAndReadTests(test));
    describe('dead letters', () => deadLetterTests(test));
    describe('tokens', () => tokenTests(test));
    describe('dedupe keys reused, and the key each attempt sent', () => keyReuseTests(test));
    describe('retention (sweep)', () => retentionTests(test));
    describe('checkpoints', () => checkpointTests(test));
    describe('exclusive', () => exclusiveTests(test));
    describe('concurrent claimers', () => concurrentClaimTests(test));
  });
}
