/**
 * Flows that speak GraphQL to a real graphql-yoga shop on loopback
 * (test/fixtures/graphql): a mutation with JSONata variables delivered once
 * with its Idempotency-Key, errors in a 200 retried or dead-lettered by their
 * extensions.code, a coercion error dead-lettered, partial data accepted or
 * refused, and relay pagination through poll and call.
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { startTestEngine } from '../helpers/engine.ts';
import { startRecorder } from '../helpers/servers.ts';
import { SHOP_SCHEMA_FILE, startShop, type Shop } from '../fixtures/graphql/shop-server.ts';

async function shopFor(t: TestContext): Promise<Shop> {
  const shop = await startShop();
  t.after(() => shop.close());
  return shop;
}

const CREATE = 'mutation Create($input: CreateOrderInput!) { createOrder(input: $input) { id total } }';

/** @param opts.sink a REST receiver the lookups flow delivers its answer to */
function config(shop: Shop, opts: { partialData?: 'accept' | 'error'; sink?: string } = {}): string {
  const sink = opts.sink === undefined ? '' : `\n  sink: { type: rest, baseUrl: ${opts.sink} }`;
  const forward = opts.sink === undefined ? '' : '\n      - deliver: { connector: sink, request: { path: /lookups } }';
  return `
store: sqlite:./junction.db
worker: { pollMs: 20, leaseMs: 5000, drainMs: 1000 }
connectors:${sink}
  shop:
    type: graphql
    endpoint: ${shop.endpoint}
    schema: ${SHOP_SCHEMA_FILE}
    retryableCodes: [RATE_LIMITED]
    partialData: ${opts.partialData ?? 'error'}
    retry: { maxAttempts: 5, baseMs: 10, maxMs: 3000 }
flows:
  orders:
    trigger: { http: { path: /orders } }
    steps:
      - deliver:
          connector: shop
          idempotencyKey: "order-{{ id }}"
          request:
            query: "${CREATE}"
            variables: { input: "{ 'id': id, 'email': $lowercase(email), 'total': total }" }
            operationName: Create
  lookups:
    trigger: { http: { path: /lookups } }
    steps:
      - call:
          connector: shop
          request:
            query: "query ($id: ID!) { order(id: $id) { id customer { name } } }"
            variables: { id: id }${forward}
`;
}

async function settle(t: TestContext, opts: Parameters<typeof config>[1] = {}) {
  const shop = await shopFor(t);
  const engine = await startTestEngine(t, config(shop, opts));
  const post = async (path: string, body: unknown): Promise<string> => (await engine.post(path, body)).json.id as string;
  const until = async (id: string, state: string) => engine.until(async () => (await engine.store.getMessage(id))?.state === state);
  return { shop, engine, post, until };
}

describe('graphql connector in a flow', () => {
  it('delivers an order as a mutation: variables from JSONata, operationName, the Idempotency-Key header', async (t) => {
    const { shop, post, until } = await settle(t);
    const id = await post('/orders', { id: 'A-1', email: 'Ada@Example.com', total: 12.5 });
    await until(id, 'done');
    assert.deepEqual(shop.created, [{ id: 'A-1', email: 'ada@example.com', total: 12.5, idempotencyKey: 'order-A-1' }]);
  });

  it('retries an error whose code is in retryableCodes, honouring extensions.retryAfter, then delivers once', { timeout: 20_000 }, async (t) => {
    const { shop, engine, post, until } = await settle(t);
    shop.plan(['RATE_LIMITED', 'RATE_LIMITED:1']);
    const id = await post('/orders', { id: 'A-2', email: 'b@example.com', total: 3 });
    await until(id, 'done');
    assert.equal(shop.calls.length, 3);
    assert.equal(shop.created.length, 1, 'delivered once');
    const rec = await engine.store.getMessage(id);
    assert.deepEqual(rec?.history.map((h) => h.errorCode ?? 'ok'), ['JNC_REMOTE_RETRYABLE', 'JNC_REMOTE_RETRYABLE', 'ok']);
    assert.match(rec?.history[0]?.error ?? '', /too many orders.*RATE_LIMITED.*at createOrder/);
    // Backoff with baseMs 10 would have come back within ~20 ms; the error asked for 1 s.
    const second = rec!.history[1]!;
    const third = rec!.history[2]!;
    assert.ok(third.startedAt - (second.startedAt + second.durationMs) >= 990, `retried after ${third.startedAt - second.startedAt} ms`);
  });

  it('dead-letters an error with a code not in retryableCodes at once, its message and code in the reason', async (t) => {
    const { shop, engine, post, until } = await settle(t);
    shop.plan(['OUT_OF_STOCK']);
    const id = await post('/orders', { id: 'A-3', email: 'c@example.com', total: 3 });
    await until(id, 'dead');
    assert.equal(shop.calls.length, 1, 'not retried');
    const dl = await engine.store.deadLetters.get(id);
    assert.match(dl?.reason.join('\n') ?? '', /JNC_REMOTE_REJECTED.*order A-3: an item is out of stock.*OUT_OF_STOCK/);
    assert.equal(dl?.lastResponse?.status, 200);
  });

  it('dead-letters a variable of the wrong type (a coercion error) without retrying', async (t) => {
    const { shop, engine, post, until } = await settle(t);
    const id = await post('/orders', { id: 'A-4', email: 'd@example.com', total: 'lots' });
    await until(id, 'dead');
    assert.equal(shop.calls.length, 0, 'the shop refused the request before running it');
    const dl = await engine.store.deadLetters.get(id);
    assert.match(dl?.reason.join('\n') ?? '', /Float cannot represent/);
    assert.equal(dl?.lastResponse?.status, 400);
  });

  it('partial data with partialData: error is dead-lettered with the field error', async (t) => {
    const { shop, engine, post, until } = await settle(t, { partialData: 'error' });
    shop.list(1);
    shop.failCustomers = true;
    const id = await post('/lookups', { id: 'L-1' });
    await until(id, 'dead');
    const dl = await engine.store.deadLetters.get(id);
    assert.match(dl?.reason.join('\n') ?? '', /customer service is unavailable.*CUSTOMER_UNAVAILABLE.*at order\.customer/);
  });

  it('partial data with partialData: accept goes on with the data the answer has', async (t) => {
    const sink = await startRecorder(t, (_req, res) => res.writeHead(204).end());
    const { shop, post, until } = await settle(t, { partialData: 'accept', sink: sink.url });
    shop.list(1);
    shop.failCustomers = true;
    const id = await post('/lookups', { id: 'L-1' });
    await until(id, 'done');
    assert.deepEqual(JSON.parse(sink.seen[0]!.body), { order: { id: 'L-1', customer: null } });
  });
});

describe('graphql lookups', () => {
  it('enrich adds the data of a query to the body (its cache keyed by the variables too)', async (t) => {
    const shop = await shopFor(t);
    shop.list(2);
    const sink = await startRecorder(t, (_req, res) => res.writeHead(204).end());
    const engine = await startTestEngine(t, `
store: sqlite:./junction.db
worker: { pollMs: 20, concurrency: 1 }
connectors:
  shop: { type: graphql, endpoint: ${shop.endpoint}, schema: ${SHOP_SCHEMA_FILE} }
  sink: { type: rest, baseUrl: ${sink.url} }
flows:
  enriched:
    trigger: { http: { path: /enriched } }
    steps:
      - enrich:
          connector: shop
          into: shop
          cacheTtlMs: 60000
          request:
            query: "query Find($id: ID!) { order(id: $id) { email customer { name } } }"
            variables: { id: orderId }
      - deliver: { connector: sink, request: { path: /enriched } }
`);
    const ids: string[] = [];
    for (const orderId of ['L-1', 'L-2', 'L-1']) ids.push((await engine.post('/enriched', { orderId })).json.id as string);
    await engine.until(async () => (await Promise.all(ids.map((id) => engine.store.getMessage(id)))).every((m) => m?.state === 'done'));
    const bodies = sink.seen.map((s) => JSON.parse(s.body) as { orderId: string; shop: unknown });
    assert.deepEqual(bodies.find((b) => b.orderId === 'L-2'), { orderId: 'L-2', shop: { order: { email: 'buyer2@example.com', customer: { name: 'buyer2' } } } });
    assert.equal(bodies.filter((b) => b.orderId === 'L-1').length, 2);
  });
});

describe('relay pagination', () => {
  it('poll reads 500 nodes page by page through after/endCursor, and each is delivered once', { timeout: 60_000 }, async (t) => {
    const shop = await shopFor(t);
    shop.list(500);
    const sink = await startRecorder(t, (_req, res) => res.writeHead(204).end());
    const engine = await startTestEngine(t, `
store: sqlite:./junction.db
worker: { pollMs: 20, concurrency: 8 }
connectors:
  shop: { type: graphql, endpoint: ${shop.endpoint}, schema: ${SHOP_SCHEMA_FILE} }
  sink: { type: rest, baseUrl: ${sink.url} }
flows:
  listed:
    trigger:
      poll:
        connector: shop
        every: 1h
        request:
          query: "query Orders($after: String) { orders(first: 40, after: $after) { edges { node { id email total } } pageInfo { hasNextPage endCursor } } }"
        paginate: { relay: orders, maxPages: 50 }
    steps:
      - deliver: { connector: sink, request: { path: "/orders/{{ id }}" } }
`);
    // The poll runs once an hour: once 500 messages are settled, nothing more can reach the sink.
    await engine.until(() => engine.settled.length >= 500, 45_000);
    assert.equal(engine.settled.length, 500);
    assert.ok(engine.settled.every((s) => s.outcome === 'ack'));
    const paths = sink.seen.map((s) => s.url);
    assert.equal(new Set(paths).size, 500);
    assert.equal(paths.length, 500);
    assert.equal(shop.pages.length, 13, '500 nodes in pages of 40');
    assert.deepEqual(shop.pages.slice(0, 3), [null, 'c39', 'c79']);
  });

  it('call gathers every page of a connection into one array (nodes)', async (t) => {
    const shop = await shopFor(t);
    shop.list(25);
    const sink = await startRecorder(t, (_req, res) => res.writeHead(204).end());
    const engine = await startTestEngine(t, `
store: sqlite:./junction.db
worker: { pollMs: 20 }
connectors:
  shop: { type: graphql, endpoint: ${shop.endpoint} }
  sink: { type: rest, baseUrl: ${sink.url} }
flows:
  report:
    trigger: { http: { path: /report } }
    steps:
      - call:
          connector: shop
          request:
            query: "query ($after: String, $first: Int) { orders(first: $first, after: $after) { nodes { id } pageInfo { hasNextPage endCursor } } }"
            variables: { first: 10 }
          paginate: { relay: orders }
      - deliver: { connector: sink, request: { path: /report } }
`);
    const id = (await engine.post('/report', {})).json.id as string;
    await engine.until(async () => (await engine.store.getMessage(id))?.state === 'done');
    const body = JSON.parse(sink.seen[0]!.body) as { id: string }[];
    assert.deepEqual(body.map((o) => o.id), shop.listed.map((o) => o.id));
    assert.deepEqual(shop.pages, [null, 'c9', 'c19']);
  });
});
