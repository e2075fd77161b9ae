/**
 * @module test/triggers/rate-limit-postgres
 * The inbound limit per consumer on the PostgreSQL store's counters: two
 * stores on one schema (two nodes) spend one allowance, including the burst
 * reserve, and counters that cannot be reached refuse with 503 and Retry-After
 * (nothing could be stored either) rather than a 500.
 */
import assert from 'node:assert/strict';
import { after, afterEach, beforeEach, describe, it } from 'node:test';
import type { Caller } from '../../src/auth/inbound/inbound.ts';
import { isJunctionError } from '../../src/core/errors.ts';
import { createPostgresStore } from '../../src/store/postgres/store.ts';
import type { Store } from '../../src/store/store.ts';
import { createInboundRateLimiter } from '../../src/triggers/rate-limit.ts';
import { ManualClock } from '../helpers/clock.ts';
import { PG_URL, postgresUnavailable, SchemaAdmin, schemaName } from '../helpers/db.ts';

const FILE = 'test/triggers/rate-limit-postgres.test.ts';
const unavailable = await postgresUnavailable();
const admin = new SchemaAdmin();
let schema = '';
let stores: Store[] = [];

if (unavailable === undefined) {
  beforeEach(async (t) => {
    schema = schemaName(FILE, t.fullName);
    await admin.create(schema);
  });
  afterEach(async (t) => {
    await Promise.allSettled(stores.map((s) => s.close()));
    stores = [];
    if ('passed' in t && t.passed === false) t.diagnostic(`schema kept: ${schema} on ${PG_URL}`);
    else await admin.drop(schema);
  });
  after(() => admin.end());
}

async function open(): Promise<Store> {
  const store = createPostgresStore({ url: PG_URL, schema, clock: new ManualClock(), pool: { max: 2 } });
  stores.push(store);
  await store.migrate();
  return store;
}

const ada: Caller = { consumer: 'ada', via: 'apiKeys' };
const config = { perKey: 2, per: 60_000, burst: 1 };

/** The status of one request: 200 let in, else the refusal's status. */
async function status(take: Promise<unknown>): Promise<number> {
  try {
    await take;
    return 200;
  } catch (e) {
    assert.ok(isJunctionError(e), String(e));
    return e.status ?? 500;
  }
}

describe('inbound rate limit on PostgreSQL counters', unavailable === undefined ? {} : { skip: unavailable }, () => {
  it('two nodes spend one allowance per consumer, burst included', async () => {
    const [a, b] = [await open(), await open()];
    const onA = createInboundRateLimiter('orders', config, a.rateLimiters);
    const onB = createInboundRateLimiter('orders', config, b.rateLimiters);
    const got = [];
    for (const node of [onA, onB, onB, onA]) got.push(await status(node.take(ada, '127.0.0.1')));
    // Two per window, then one from the burst reserve, then refused, whichever node is asked.
    assert.deepEqual(got, [200, 200, 200, 429]);
  });

  it('counters that cannot be reached refuse with 503 JNC_UNAVAILABLE and Retry-After, not a 500', async () => {
    const a = await open();
    const limiter = createInboundRateLimiter('orders', config, a.rateLimiters);
    await a.close();
    try {
      await limiter.take(ada, '127.0.0.1');
      assert.fail('taken with no counters');
    } catch (e) {
      assert.ok(isJunctionError(e));
      assert.equal(e.code, 'JNC_UNAVAILABLE');
      assert.equal(e.status, 503);
      assert.equal(e.retryAfterMs, 1000);
    }
  });
});
