/**
 * The admin API answers only to `Authorization: Bearer <server.adminToken>`, is
 * off (404) without a configured token, and shows flows, connectors, messages
 * and dead letters, which it can replay and purge.
 */
import assert from 'node:assert/strict';
import type { WindowFigures } from '../../src/observability/live-stats.ts';
import { describe, it, type TestContext } from 'node:test';
import { junction } from '../helpers/cli.ts';
import { startTestEngine, type TestEngine } from '../helpers/engine.ts';
import { startTestSink, type Sink } from '../helpers/sink.ts';

const TOKEN = 'adm-7f3c9e1d-token';
const SINK_TOKEN = 'sink-bearer-5a1b';
const ENV = { ADMIN_TOKEN: TOKEN, SINK_TOKEN };
const auth = { authorization: `Bearer ${TOKEN}` };

const config = (sink: Sink, adminToken = 'adminToken: "${env:ADMIN_TOKEN}"') => `
store: sqlite:./junction.db
server: { ${adminToken} }
worker: { pollMs: 20 }
connectors:
  sink:
    type: rest
    baseUrl: "${sink.url}/api?unused=1"
    headers: { x-static: "static-value-9d" }
    auth: { bearer: "\${env:SINK_TOKEN}" }
    retry: { maxAttempts: 1 }
flows:
  orders:
    description: Orders to the sink
    trigger: { http: { path: /hooks/orders } }
    steps:
      - map: { id: id, card: card }
      - deliver: { connector: sink, request: { path: /orders } }
  other:
    trigger: { http: { path: /hooks/other } }
    steps:
      - filter: "keep = true"
      - deliver: { connector: sink }
`;

async function setup(t: TestContext, opts: { adminToken?: string } = {}): Promise<{ engine: TestEngine; sink: Sink }> {
  const sink = await startTestSink(t);
  const engine = await startTestEngine(t, config(sink, opts.adminToken), { env: ENV });
  return { engine, sink };
}

/** Posts `n` orders the sink refuses with 400, and waits until each is a dead letter. */
async function deadLetters(engine: TestEngine, sink: Sink, n: number, flow = 'orders'): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    sink.plan(['400'], { key: `${flow}-${i}` });
    const res = await engine.post(`/hooks/${flow}`, { id: i, card: '4111111111111111', keep: true }, { 'idempotency-key': `${flow}-${i}` });
    ids.push(res.json.id as string);
  }
  await engine.until(async () => (await engine.store.deadLetters.count(flow)) === n);
  return ids;
}

function assertProblem(res: { statusCode: number; headers: Record<string, unknown>; json(): unknown }, status: number, code: string): Record<string, unknown> {
  assert.equal(res.statusCode, status);
  assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
  const body = res.json() as Record<string, unknown>;
  assert.equal(body.code, code);
  return body;
}

describe('admin API: the token', () => {
  it('answers 404 JNC_ADMIN_DISABLED on every admin path when no token is configured', async (t) => {
    const { engine } = await setup(t, { adminToken: '' });
    for (const url of ['/admin/flows', '/admin/dead-letters', '/admin/nope']) {
      const body = assertProblem(await engine.app.inject({ url, headers: auth }), 404, 'JNC_ADMIN_DISABLED');
      assert.match(String(body.detail), /server\.adminToken/);
    }
    assertProblem(await engine.app.inject({ method: 'POST', url: '/admin/dead-letters/replay', payload: { all: true } }), 404, 'JNC_ADMIN_DISABLED');
  });

  it('refuses a missing, wrong or non-bearer token with 401 and a challenge, never echoing what was sent', async (t) => {
    const { engine } = await setup(t);
    const missing = await engine.app.inject({ url: '/admin/flows' });
    assertProblem(missing, 401, 'JNC_AUTH_DENIED');
    assert.equal(missing.headers['www-authenticate'], 'Bearer realm="junction-admin"');

    const guess = `${TOKEN}x`;
    const wrong = await engine.app.inject({ url: '/admin/flows', headers: { authorization: `Bearer ${guess}` } });
    assertProblem(wrong, 401, 'JNC_AUTH_DENIED');
    assert.match(String(wrong.headers['www-authenticate']), /error="invalid_token"/);
    assert.ok(!wrong.body.includes(guess) && !wrong.body.includes(TOKEN));

    const basic = await engine.app.inject({ url: '/admin/flows', headers: { authorization: `Basic ${Buffer.from(`a:${TOKEN}`).toString('base64')}` } });
    assertProblem(basic, 401, 'JNC_AUTH_DENIED');
    assert.match(String(basic.headers['www-authenticate']), /error="invalid_request"/);

    // An unknown admin path is no hint to a caller without the token.
    assertProblem(await engine.app.inject({ url: '/admin/secrets' }), 401, 'JNC_AUTH_DENIED');
    assertProblem(await engine.app.inject({ url: '/admin/secrets', headers: auth }), 404, 'JNC_NOT_FOUND');
    // The bearer scheme is case-insensitive (RFC 9110 §11.1).
    assert.equal((await engine.app.inject({ url: '/admin/flows', headers: { authorization: `bearer ${TOKEN}` } })).statusCode, 200);
  });

  it('checks the token before reading the body', async (t) => {
    const { engine } = await setup(t);
    const res = await engine.app.inject({ method: 'POST', url: '/admin/dead-letters/purge', headers: { 'content-type': 'application/json' }, payload: '{not json' });
    assertProblem(res, 401, 'JNC_AUTH_DENIED');
  });
});

describe('admin API: flows and connectors', () => {
  it('lists flows with their trigger, steps, counts by state and drops', async (t) => {
    const { engine, sink } = await setup(t);
    await deadLetters(engine, sink, 1);
    await engine.post('/hooks/other', { keep: false });
    await engine.until(() => engine.settled.some((e) => e.flow === 'other' && e.dropped !== undefined));
    const res = await engine.app.inject({ url: '/admin/flows', headers: auth });
    assert.equal(res.statusCode, 200);
    const { flows } = res.json() as { flows: Record<string, unknown>[] };
    assert.deepEqual(flows.map((f) => f.name), ['orders', 'other']);
    const { live, ...orders } = flows[0] as { live: WindowFigures };
    // This process's last minute: the one dead letter, and no success.
    assert.deepEqual([live.windowMs, live.ok, live.retry, live.failed, live.errorRatio], [60_000, 0, 0, 1, 1]);
    assert.deepEqual(orders, {
      name: 'orders',
      description: 'Orders to the sink',
      trigger: { type: 'http', method: 'POST', path: '/hooks/orders', auth: [], accept: ['json'] },
      steps: [{ type: 'map' }, { type: 'deliver', connector: 'sink' }],
      redact: [],
      messages: { queued: 0, running: 0, done: 0, dead: 1 },
      dropped: 0,
    });
    assert.deepEqual(flows[1]?.messages, { queued: 0, running: 0, done: 1, dead: 0 });
    assert.equal(flows[1]?.dropped, 1);
  });

  it('lists connectors with their policies and the kind of credential, never its value', async (t) => {
    const { engine, sink } = await setup(t);
    const res = await engine.app.inject({ url: '/admin/connectors', headers: auth });
    assert.equal(res.statusCode, 200);
    const body = res.json() as { connectors: { live: WindowFigures }[] };
    assert.equal(body.connectors[0]?.live.total, 0, 'no call made yet');
    for (const c of body.connectors) delete (c as { live?: unknown }).live;
    assert.deepEqual(body, {
      connectors: [
        {
          name: 'sink',
          type: 'rest',
          baseUrl: `${sink.url}/api`,
          auth: 'bearer',
          headers: ['x-static'],
          timeoutMs: 5000,
          retry: { maxAttempts: 1, baseMs: 200, maxMs: 60000 },
          pool: { connections: 16, keepAliveMs: 30000, pipelining: 1 },
          // Live, from Connector.state(): no policy with state is configured here.
          state: { type: 'rest', policies: {} },
        },
      ],
    });
    assert.ok(!res.body.includes(SINK_TOKEN) && !res.body.includes('static-value-9d'));
  });
});

describe('admin API: the worker', () => {
  it('shows its slots and how its messages came to it: handed off at ingest, or claimed from the queue', async (t) => {
    const { engine } = await setup(t);
    const before = (await engine.app.inject({ url: '/admin/worker', headers: auth })).json() as Record<string, unknown>;
    assert.deepEqual({ ...before, id: 'x' }, { id: 'x', running: true, concurrency: 32, inFlight: 0, waiting: 0, handedOff: 0, claimed: 0 });
    const res = await engine.post('/hooks/orders', { id: 1, card: 'c' });
    await engine.until(async () => (await engine.store.getMessage(String(res.json.id)))?.state === 'done');
    const after = (await engine.app.inject({ url: '/admin/worker', headers: auth })).json() as { handedOff: number; claimed: number; id: string };
    assert.equal(after.handedOff + after.claimed, 1);
    assert.equal(after.handedOff, 1, 'a message due now, with a free slot, is handed to the worker as it is stored');
    assert.equal(after.id, engine.worker.id);
  });
});

describe('admin API: messages and dead letters', () => {
  it('shows a message with its history, and 404 for an unknown id', async (t) => {
    const { engine, sink } = await setup(t);
    const [id] = await deadLetters(engine, sink, 1);
    const res = await engine.app.inject({ url: `/admin/messages/${id}`, headers: auth });
    assert.equal(res.statusCode, 200);
    const rec = res.json() as { id: string; state: string; body: unknown; history: { outcome: string; errorCode: string; response: { status: number } }[] };
    assert.equal(rec.id, id);
    assert.equal(rec.state, 'dead');
    assert.deepEqual(rec.body, { id: 0, card: '4111111111111111', keep: true });
    assert.equal(rec.history.length, 1);
    assert.equal(rec.history[0]?.errorCode, 'JNC_HTTP_REJECTED');
    assert.equal(rec.history[0]?.response.status, 400);
    const body = assertProblem(await engine.app.inject({ url: '/admin/messages/nope', headers: auth }), 404, 'JNC_MESSAGE_UNKNOWN');
    assert.match(String(body.detail), /nope/);
  });

  it('lists dead letters newest first, a page at a time, and shows one in full', async (t) => {
    const { engine, sink } = await setup(t);
    const ids = await deadLetters(engine, sink, 5);
    const seen: string[] = [];
    let before: string | undefined;
    for (let page = 0; page < 4; page++) {
      const res = await engine.app.inject({ url: `/admin/dead-letters?flow=orders&limit=2${before ? `&before=${before}` : ''}`, headers: auth });
      assert.equal(res.statusCode, 200);
      const json = res.json() as { deadLetters: { id: string; errorCode: string }[]; total: number; next?: string };
      assert.equal(json.total, 5);
      seen.push(...json.deadLetters.map((d) => d.id));
      before = json.next;
      if (!before) break;
    }
    assert.deepEqual(seen, [...ids].reverse());

    const one = await engine.app.inject({ url: `/admin/dead-letters/${ids[0]}`, headers: auth });
    assert.equal(one.statusCode, 200);
    const dl = one.json() as { id: string; reason: string[]; lastResponse: { status: number }; history: unknown[]; body: unknown };
    assert.equal(dl.id, ids[0]);
    assert.equal(dl.lastResponse.status, 400);
    assert.equal(dl.history.length, 1);
    assert.match(dl.reason[0] ?? '', /rejected the request with 400/);

    assertProblem(await engine.app.inject({ url: '/admin/dead-letters/unknown-id', headers: auth }), 404, 'JNC_DEAD_LETTER_UNKNOWN');
    assertProblem(await engine.app.inject({ url: '/admin/dead-letters?limit=0', headers: auth }), 400, 'JNC_INPUT_INVALID');
    assertProblem(await engine.app.inject({ url: '/admin/dead-letters?limit=501', headers: auth }), 400, 'JNC_INPUT_INVALID');
  });

  it('replays dead letters by id: they are delivered, and unknown ids are named', async (t) => {
    const { engine, sink } = await setup(t);
    const ids = await deadLetters(engine, sink, 2);
    const res = await engine.app.inject({ method: 'POST', url: '/admin/dead-letters/replay', headers: auth, payload: { ids: [ids[0], 'not-a-dead-letter'] } });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { replayed: [ids[0]], notFound: ['not-a-dead-letter'] });
    await engine.until(async () => (await engine.store.getMessage(ids[0]!))?.state === 'done');
    assert.equal(sink.received().get('orders-0'), 1);
    assert.equal((await engine.store.getMessage(ids[1]!))?.state, 'dead');
  });

  it('replays by flow and by all', async (t) => {
    const { engine, sink } = await setup(t);
    await deadLetters(engine, sink, 2);
    await deadLetters(engine, sink, 1, 'other');
    const byFlow = await engine.app.inject({ method: 'POST', url: '/admin/dead-letters/replay', headers: auth, payload: { flow: 'other' } });
    assert.equal((byFlow.json() as { replayed: string[] }).replayed.length, 1);
    const all = await engine.app.inject({ method: 'POST', url: '/admin/dead-letters/replay', headers: auth, payload: { all: true } });
    assert.equal((all.json() as { replayed: string[] }).replayed.length, 2);
    await engine.until(async () => (await engine.store.stats()).done === 3);
    assert.equal(await engine.store.deadLetters.count(), 0);
  });

  it('purges dead letters by id, by flow and all', async (t) => {
    const { engine, sink } = await setup(t);
    const ids = await deadLetters(engine, sink, 3);
    await deadLetters(engine, sink, 1, 'other');
    const purge = (payload: unknown) => engine.app.inject({ method: 'POST', url: '/admin/dead-letters/purge', headers: auth, payload: payload as object });
    assert.deepEqual((await purge({ ids: [ids[0], 'nope'] })).json(), { purged: 1 });
    assert.deepEqual((await purge({ flow: 'orders' })).json(), { purged: 2 });
    assert.deepEqual((await purge({ all: true })).json(), { purged: 1 });
    assert.equal(await engine.store.deadLetters.count(), 0);
    assert.equal(await engine.store.getMessage(ids[0]!), undefined);
  });

  it('filters dead letters by flow, code and time, counts what matched, and replays or purges everything that matches', async (t) => {
    const { engine, sink } = await setup(t);
    const start = new Date().toISOString();
    const orders = await deadLetters(engine, sink, 3);
    const other = await deadLetters(engine, sink, 2, 'other');
    const list = async (query: string) => {
      const res = await engine.app.inject({ url: `/admin/dead-letters?${query}`, headers: auth });
      assert.equal(res.statusCode, 200, res.body);
      const json = res.json() as { deadLetters: { id: string }[]; total: number; next?: string };
      return { ids: json.deadLetters.map((d) => d.id), total: json.total, next: json.next };
    };
    assert.deepEqual(await list('code=JNC_HTTP_REJECTED&flow=other'), { ids: [...other].reverse(), total: 2, next: undefined });
    assert.equal((await list('code=JNC_NOPE')).total, 0);
    assert.equal((await list(`since=${encodeURIComponent(start)}`)).total, 5);
    assert.equal((await list('until=2000-01-01T00:00:00Z')).total, 0);
    const page = await list('flow=orders&code=JNC_HTTP_REJECTED&limit=2');
    assert.deepEqual(page, { ids: [orders[2], orders[1]], total: 3, next: orders[1] });
    assertProblem(await engine.app.inject({ url: '/admin/dead-letters?since=yesterday', headers: auth }), 400, 'JNC_INPUT_INVALID');

    const replay = await engine.app.inject({ method: 'POST', url: '/admin/dead-letters/replay', headers: auth, payload: { filter: { flow: 'other', code: 'JNC_HTTP_REJECTED', since: start } } });
    assert.deepEqual((replay.json() as { replayed: string[] }).replayed, [...other].sort());
    await engine.until(async () => (await engine.store.stats('other')).done === 2);
    const purge = await engine.app.inject({ method: 'POST', url: '/admin/dead-letters/purge', headers: auth, payload: { filter: { until: new Date(Date.now() + 60_000).toISOString() } } });
    assert.deepEqual(purge.json(), { purged: 3 });
    assert.equal(await engine.store.deadLetters.count(), 0);
    for (const bad of ['{"filter":[]}', '{"filter":{"colour":"red"}}', '{"filter":{"since":"5 minutes ago"}}', '{"filter":{},"all":true}']) {
      assertProblem(await engine.app.inject({ method: 'POST', url: '/admin/dead-letters/replay', headers: { ...auth, 'content-type': 'application/json' }, payload: bad }), 400, 'JNC_INPUT_INVALID');
    }
  });

  it('charts a flow and a connector: points of the last span in steps, with what the worker settled', async (t) => {
    const { engine, sink } = await setup(t);
    await deadLetters(engine, sink, 2);
    await engine.post('/hooks/orders', { id: 9, card: 'x', keep: true });
    await engine.until(async () => (await engine.store.stats('orders')).done === 1);
    const res = await engine.app.inject({ url: '/admin/flows/orders/series?span=10m&step=1m', headers: auth });
    assert.equal(res.statusCode, 200, res.body);
    const json = res.json() as { flow: string; spanMs: number; stepMs: number; points: { at: number; ok: number; errors: number }[] };
    assert.equal(json.points.length, 10);
    assert.deepEqual([json.spanMs, json.stepMs], [600_000, 60_000]);
    assert.equal(json.points.reduce((n, p) => n + p.ok, 0), 1);
    assert.equal(json.points.reduce((n, p) => n + p.errors, 0), 2);
    const calls = (await engine.app.inject({ url: '/admin/connectors/sink/series', headers: auth })).json() as { points: { ok: number; errors: number }[] };
    assert.equal(calls.points.length, 60, 'the default is the last hour by the minute');
    assert.equal(calls.points.reduce((n, p) => n + p.ok + p.errors, 0), 3);
    const unknown = assertProblem(await engine.app.inject({ url: '/admin/flows/nope/series', headers: auth }), 404, 'JNC_SERIES_UNKNOWN');
    assert.match(String(unknown.detail), /orders, other/);
    for (const q of ['span=2h', 'step=15s', 'span=1m&step=5m', 'step=5s']) {
      assertProblem(await engine.app.inject({ url: `/admin/connectors/sink/series?${q}`, headers: auth }), 400, 'JNC_INPUT_INVALID');
    }
  });

  it('refuses a selector that does not name dead letters exactly one way', async (t) => {
    const { engine } = await setup(t);
    const send = (payload: string, contentType = 'application/json') =>
      engine.app.inject({ method: 'POST', url: '/admin/dead-letters/replay', headers: { ...auth, 'content-type': contentType }, payload });
    for (const bad of ['{}', '[]', '{"ids":[]}', '{"ids":[1]}', '{"flow":"a","all":true}', '{"all":false}', '{"flow":""}', '{"colour":"red"}']) {
      const body = assertProblem(await send(bad), 400, 'JNC_INPUT_INVALID');
      assert.match(String(body.detail), /ids|flow|all/, bad);
    }
    assertProblem(await send('{"ids":'), 400, 'JNC_INPUT_MALFORMED');
    assertProblem(await send('ids=1', 'application/x-www-form-urlencoded'), 415, 'JNC_INPUT_UNSUPPORTED_TYPE');
  });
});

describe('admin API: redacted fields', () => {
  const REDACTING = (sink: Sink) => `
store: sqlite:./junction.db
server: { adminToken: "\${env:ADMIN_TOKEN}" }
worker: { pollMs: 20 }
connectors:
  sink: { type: rest, baseUrl: "${sink.url}", retry: { maxAttempts: 1 } }
flows:
  payments:
    trigger: { http: { path: /hooks/payments } }
    redact: [card.number, payer.*]
    steps:
      - map: { id: id, card: card, payer: payer, check: { expr: card.number, type: integer } }
      - deliver: { connector: sink }
`;

  it('masks the fields and their values wherever a dead letter is shown; the store and a replay keep the body whole', async (t) => {
    const sink = await startTestSink(t);
    const engine = await startTestEngine(t, REDACTING(sink), { env: ENV });
    const body = { id: 7, card: { number: '4111-1111-1111-1111', expiry: '12/30' }, payer: { name: 'Ada Lovelace', iban: 'GB33BUKB20201555555555' } };
    const { json } = await engine.post('/hooks/payments?token=caller-token-123&page=2', body, { 'x-auth-token': 'caller-token-123', 'x-trace': 't1' });
    const id = json.id as string;
    await engine.until(async () => (await engine.store.deadLetters.count()) === 1);

    const dl = (await engine.app.inject({ url: `/admin/dead-letters/${id}`, headers: auth })).json() as Record<string, unknown>;
    assert.deepEqual(dl.body, { id: 7, card: { number: '[redacted]', expiry: '12/30' }, payer: { name: '[redacted]', iban: '[redacted]' } });
    assert.equal((dl.headers as Record<string, string>)['x-auth-token'], undefined, 'a credential header is not even stored');
    assert.equal((dl.headers as Record<string, string>)['x-trace'], 't1');
    assert.equal((dl.meta as Record<string, unknown>).path, '/hooks/payments', 'the query is kept apart');
    assert.deepEqual((dl.meta as Record<string, unknown>).query, { page: '2' }, 'a credential in the query is not even stored');
    const shown = [
      JSON.stringify(dl),
      (await engine.app.inject({ url: `/admin/messages/${id}`, headers: auth })).body,
      (await engine.app.inject({ url: '/admin/dead-letters', headers: auth })).body,
    ];
    // The map step's error quotes the card number: the masked value is cut from every text shown.
    assert.match(String(dl.error), /JNC_MAP_TYPE|must be an integer/);
    for (const text of shown) {
      for (const secret of ['4111-1111-1111-1111', 'Ada Lovelace', 'GB33BUKB20201555555555', 'caller-token-123']) assert.ok(!text.includes(secret), `${secret} shown`);
    }
    const cli = await junction(['dlq', 'show', id, '-c', engine.configFile], ENV);
    assert.equal(cli.code, 0, cli.stderr);
    assert.ok(!cli.stdout.includes('4111-1111-1111-1111') && cli.stdout.includes('[redacted]'));

    assert.deepEqual((await engine.store.deadLetters.get(id))?.body, body, 'the store keeps the body whole');

    // A replay sends the body as received, not as shown.
    const whole = { ...body, id: 8, card: { number: '4111111111111111', expiry: '12/30' } };
    sink.plan(['400']);
    const second = (await engine.post('/hooks/payments', whole)).json.id as string;
    await engine.until(async () => (await engine.store.deadLetters.count()) === 2);
    const replay = await engine.app.inject({ method: 'POST', url: '/admin/dead-letters/replay', headers: auth, payload: { ids: [second] } });
    assert.deepEqual(replay.json(), { replayed: [second], notFound: [] });
    await engine.until(async () => (await engine.store.getMessage(second))?.state === 'done');
    const delivered = JSON.parse(sink.requests.at(-1)?.body ?? '{}') as { card: { number: string }; payer: { iban: string } };
    assert.equal(delivered.card.number, '4111111111111111');
    assert.equal(delivered.payer.iban, 'GB33BUKB20201555555555');
  });
});
