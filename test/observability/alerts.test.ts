/**
 * Alert rules: the state machine (fire once, resolve, cool-down) on a hand-driven
 * clock; the evaluator on a real SQLite store and real live stats; a whole engine
 * whose sink fails and recovers, with notices verified by a Standard Webhooks
 * receiver; and `junction check` refusing rules that cannot work.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadConfig, parseConfigText } from '../../src/config/load.ts';
import { errors } from '../../src/core/errors.ts';
import type { Json } from '../../src/core/message.ts';
import { alertsOptions } from '../../src/observability/alert-options.ts';
import { addSample, growth, INITIAL_STATE, nextState, type RuleState } from '../../src/observability/alert-rule.ts';
import { startAlerts, type AlertNotice, type AlertSources } from '../../src/observability/alerts.ts';
import { publish } from '../../src/observability/channels.ts';
import { LiveStats } from '../../src/observability/live-stats.ts';
import { silentLogger } from '../../src/observability/logger.ts';
import { openStore } from '../../src/store/open.ts';
import type { Store } from '../../src/store/store.ts';
import { ManualClock } from '../helpers/clock.ts';
import { PG_URL, postgresUnavailable, SchemaAdmin, schemaName } from '../helpers/db.ts';
import { startTestEngine, tempDir } from '../helpers/engine.ts';
import { startTestSink } from '../helpers/sink.ts';
import { SECRETS, startWebhookReceiver } from '../helpers/webhook-receiver.ts';

const MIN = 60_000;

describe('a rule\'s state machine', () => {
  it('fires once when its condition becomes true, stays quiet while it holds, and resolves when it stops', () => {
    const clock = new ManualClock();
    let s: RuleState = INITIAL_STATE;
    const step = (holds: boolean) => {
      const r = nextState(s, holds, clock.now(), 15 * MIN);
      s = r.state;
      return r.transition;
    };
    assert.equal(step(false), undefined);
    const firedAt = clock.now();
    assert.deepEqual(step(true), { status: 'firing', since: firedAt });
    clock.advance(MIN);
    assert.equal(step(true), undefined, 'still true: nothing more is sent');
    clock.advance(MIN);
    assert.deepEqual(step(false), { status: 'resolved', since: firedAt }, 'the resolve carries the firing\'s start');
    assert.equal(step(false), undefined);
  });

  it('after a resolve, does not fire again before its cool-down has passed since the last firing', () => {
    const clock = new ManualClock();
    let s: RuleState = INITIAL_STATE;
    const step = (holds: boolean) => {
      const r = nextState(s, holds, clock.now(), 15 * MIN);
      s = r.state;
      return r.transition?.status;
    };
    assert.equal(step(true), 'firing');
    clock.advance(2 * MIN);
    assert.equal(step(false), 'resolved');
    clock.advance(2 * MIN);
    assert.equal(step(true), undefined, '4 minutes after firing: cooling down');
    clock.advance(10 * MIN);
    assert.equal(step(true), undefined, '14 minutes: still cooling down');
    clock.advance(MIN);
    assert.equal(step(true), 'firing', '15 minutes: the cool-down is over and the condition holds');
    clock.advance(MIN);
    assert.equal(step(false), 'resolved');
    clock.advance(20 * MIN);
    assert.equal(step(true), 'firing', 'long after the cool-down, it fires at once');
  });

  it('measures dead-letter growth from the lowest count in the window, with bounded samples', () => {
    const clock = new ManualClock();
    let samples: [number, number][] = [];
    const at = (count: number) => {
      samples = addSample(samples, clock.now(), count, 10 * MIN);
      return growth(samples, count);
    };
    assert.equal(at(5), 0);
    clock.advance(MIN);
    assert.equal(at(3), 0, 'a purge lowers the base');
    clock.advance(MIN);
    assert.equal(at(13), 10);
    clock.advance(9 * MIN);
    assert.equal(at(14), 1, 'the samples of minutes 0 and 1 left the window: 13 at minute 2 is the lowest');
    for (let i = 0; i < 1000; i++) {
      clock.advance(1000);
      at(14);
    }
    assert.ok(samples.length <= 121, `${samples.length} samples kept`);
  });
});

/** A real store on a temp file, on the clock given. */
async function tempStore(t: TestContext, clock: ManualClock): Promise<Store> {
  const dir = tempDir(t);
  const store = openStore(`sqlite:${join(dir, 'j.db')}`, { baseDir: dir, clock });
  await store.migrate();
  t.after(() => store.close());
  return store;
}

function settled(flow: string, outcome: 'ack' | 'dead', n: number): void {
  for (let i = 0; i < n; i++) publish('message:settled', { worker: 'alerts-test', flow, id: `m${i}`, attempt: 1, outcome, durationMs: 5 });
}

/** Evaluates `rules` against a real store and live stats; notices are stored as the engine stores them. */
async function evaluator(t: TestContext, rules: unknown, opts: { clock?: ManualClock; store?: Store; circuit?: AlertSources['circuit'] } = {}) {
  const clock = opts.clock ?? new ManualClock();
  const store = opts.store ?? (await tempStore(t, clock));
  const stats = new LiveStats({ clock, worker: 'alerts-test' });
  t.after(() => stats.close());
  const sent: AlertNotice[] = [];
  const alerts = startAlerts(alertsOptions.parse({ evaluateEvery: '1h', rules }), {
    clock,
    logger: silentLogger,
    stats,
    store,
    circuit: opts.circuit ?? (() => undefined),
    async notify(notice, _rule, key, state) {
      await store.enqueue([{ flow: 'junction:alerts:ops', body: notice as unknown as Json, dedupeKey: key }], { checkpoint: { key: state.key, value: state.value as unknown as Json } });
      sent.push(notice);
    },
  });
  t.after(() => alerts.stop());
  return { clock, store, alerts, sent };
}

const notify = { connector: 'ops' };

describe('the evaluator', () => {
  it('fires an error-ratio rule once, only with enough events, and resolves only once enough healthy traffic shows it', async (t) => {
    const { clock, alerts, sent } = await evaluator(t, { failing: { when: { errorRatio: { flow: 'orders', above: 0.2, window: '5m', minEvents: 10 } }, notify } });
    settled('orders', 'dead', 5);
    assert.deepEqual(await alerts.evaluate(), [], '5 events are fewer than minEvents');
    settled('orders', 'ack', 5);
    const [fired] = await alerts.evaluate();
    assert.equal(sent.length, 1);
    assert.equal(fired?.status, 'firing');
    assert.equal(fired?.value, 0.5);
    assert.equal(fired?.threshold, 0.2);
    assert.equal(fired?.window, '5m');
    assert.equal(fired?.flow, 'orders');
    assert.equal(fired?.since, new Date(clock.now()).toISOString());
    assert.match(fired?.summary ?? '', /^FIRING failing: error ratio of flow orders is 0\.5 over 5m/);
    clock.advance(MIN);
    assert.deepEqual(await alerts.evaluate(), [], 'still failing: nothing more is sent');
    clock.advance(5 * MIN);
    assert.deepEqual(await alerts.evaluate(), [], 'no traffic in the window proves nothing: still firing');
    settled('orders', 'ack', 9);
    assert.deepEqual(await alerts.evaluate(), [], '9 events are fewer than minEvents');
    settled('orders', 'ack', 1);
    const [resolved] = await alerts.evaluate();
    assert.equal(resolved?.status, 'resolved', 'enough traffic, and healthy');
    assert.equal(resolved?.since, fired?.since);
    assert.equal(sent.length, 2);
  });

  it('a node that takes over with no traffic of its own does not resolve a rule on live figures', async (t) => {
    const clock = new ManualClock();
    const store = await tempStore(t, clock);
    const rules = { failing: { when: { errorRatio: { flow: 'orders', above: 0.5 } }, notify } };
    const first = await evaluator(t, rules, { clock, store });
    settled('orders', 'dead', 3);
    assert.equal((await first.alerts.evaluate())[0]?.status, 'firing');
    await first.alerts.stop();
    // A restart: live figures start empty, on a clock far enough on for the old buckets to be gone from any window.
    clock.advance(2 * 3_600_000);
    const second = await evaluator(t, rules, { clock, store });
    assert.deepEqual(await second.alerts.evaluate(), []);
    assert.equal((await store.checkpoints.get('alert:failing') as { firing: boolean }).firing, true);
  });

  it('keeps a rule\'s state in the store: another evaluator on it (a restart, another node) does not fire it again', async (t) => {
    const clock = new ManualClock();
    const store = await tempStore(t, clock);
    const rules = { old: { when: { queueAge: { flow: 'orders', aboveMs: MIN } }, notify } };
    const first = await evaluator(t, rules, { clock, store });
    await store.enqueue([{ flow: 'orders', body: { n: 1 } }]);
    clock.advance(2 * MIN);
    const [fired] = await first.alerts.evaluate();
    assert.equal(fired?.status, 'firing');
    assert.equal(fired?.value, 2 * MIN);
    await first.alerts.stop();

    const second = await evaluator(t, rules, { clock, store });
    assert.deepEqual(await second.alerts.evaluate(), [], 'the firing was stored with its notice');
    await store.claim({ worker: 'w', limit: 10, leaseMs: MIN });
    const [resolved] = await second.alerts.evaluate();
    assert.equal(resolved?.status, 'resolved', 'the message was claimed: nothing waits');
    const notices = await store.stats('junction:alerts:ops');
    assert.equal(notices.queued + notices.running, 2, 'both notices are durable messages');
  });

  it('fires a dead-letter rule when the count grows by growsBy within the window', async (t) => {
    const { clock, store, alerts } = await evaluator(t, { dlq: { when: { deadLetters: { flow: 'orders', growsBy: 3, window: '10m' } }, notify } });
    const kill = async (n: number) => {
      await store.enqueue(Array.from({ length: n }, (_, i) => ({ flow: 'orders', body: { i } })));
      for (const m of await store.claim({ worker: 'w', limit: n, leaseMs: MIN })) {
        await store.settle({ id: m.id, lease: m.lease }, { kind: 'dead', error: errors.HTTP_REJECTED.create([400, 'no']) }, null);
      }
    };
    await kill(1);
    assert.deepEqual(await alerts.evaluate(), []);
    clock.advance(MIN);
    await kill(2);
    assert.deepEqual(await alerts.evaluate(), [], 'grew by 2');
    clock.advance(MIN);
    await kill(1);
    const [fired] = await alerts.evaluate();
    assert.equal(fired?.value, 3);
    assert.equal(fired?.status, 'firing');
    clock.advance(11 * MIN);
    assert.equal((await alerts.evaluate())[0]?.status, 'resolved', 'no growth in the last 10 minutes');
  });

  it('fires a circuit rule while the circuit is not closed', async (t) => {
    let circuit = 'closed';
    const { alerts } = await evaluator(t, { open: { when: { circuitOpen: { connector: 'crm' } }, notify } }, { circuit: () => circuit });
    assert.deepEqual(await alerts.evaluate(), []);
    circuit = 'open';
    assert.equal((await alerts.evaluate())[0]?.value, 'open');
    circuit = 'halfOpen';
    assert.deepEqual(await alerts.evaluate(), [], 'probing is not closed yet');
    circuit = 'closed';
    assert.equal((await alerts.evaluate())[0]?.status, 'resolved');
  });

  it('evaluates nothing while another holder has the turn (one node at a time)', async (t) => {
    const { clock, store, alerts, sent } = await evaluator(t, { old: { when: { queueAge: { flow: 'orders', aboveMs: 1000 } }, notify } });
    await store.enqueue([{ flow: 'orders', body: {} }]);
    clock.advance(MIN);
    let inside: AlertNotice[] | undefined;
    assert.equal(await store.exclusive('junction:alerts', async () => {
      inside = await alerts.evaluate();
    }), true);
    assert.deepEqual(inside, []);
    assert.equal(sent.length, 0);
    assert.equal((await alerts.evaluate()).length, 1, 'once the turn is free, it evaluates');
  });
});

describe('on PostgreSQL, with two nodes', async () => {
  const skip = await postgresUnavailable();
  it('one node at a time evaluates, and the rule\'s stored state keeps the other from firing it again', { skip }, async (t) => {
    const admin = new SchemaAdmin();
    const schema = schemaName(import.meta.filename, t.name);
    await admin.create(schema);
    t.after(async () => {
      // Kept when the test failed, to look at (test/helpers/db.ts).
      if ('passed' in t && t.passed === false) t.diagnostic(`schema kept: ${schema} on ${PG_URL}`);
      else await admin.drop(schema);
      await admin.end();
    });
    const clock = new ManualClock();
    const node = async () => {
      const store = openStore(`${PG_URL}?schema=${schema}`, { baseDir: '.', clock });
      t.after(() => store.close());
      await store.migrate();
      return evaluator(t, { old: { when: { queueAge: { flow: 'orders', aboveMs: MIN } }, notify } }, { clock, store });
    };
    const a = await node();
    const b = await node();
    await a.store.enqueue([{ flow: 'orders', body: {} }]);
    clock.advance(2 * MIN);
    for (let i = 0; i < 3; i++) await Promise.all([a.alerts.evaluate(), b.alerts.evaluate()]);
    assert.equal(a.sent.length + b.sent.length, 1, 'fired once across both nodes');
    assert.equal((await a.store.stats('junction:alerts:ops')).queued, 1);
  });
});

/** An engine whose flow delivers to a sink, with one error-ratio rule notifying a signed webhook. */
async function alertingEngine(t: TestContext) {
  const sink = await startTestSink(t);
  const receiver = await startWebhookReceiver(t, SECRETS.a);
  const engine = await startTestEngine(
    t,
    `
store: sqlite:./j.db
connectors:
  crm: { type: rest, baseUrl: "${sink.url}", retry: { maxAttempts: 1 } }
  ops-hook:
    type: webhook
    url: "${receiver.url}/alerts"
    signing: { scheme: standard-webhooks, secret: "${SECRETS.a}" }
    retry: { maxAttempts: 5, baseMs: 5, maxMs: 20 }
flows:
  orders:
    trigger: { http: { path: /orders } }
    steps:
      - deliver: { connector: crm }
alerts:
  evaluateEvery: 1h
  rules:
    orders-failing:
      when: { errorRatio: { flow: orders, above: 0.5, window: 5m, minEvents: 4 } }
      notify: { connector: ops-hook }
      coolDown: 1h
`,
  );
  const alerts = engine.alerts!;
  let posted = 0;
  /** Posts `n` orders and waits until each is settled for good (done or dead). */
  const send = async (n: number) => {
    for (let i = 0; i < n; i++) assert.equal((await engine.post('/orders', { n: posted++ })).status, 202);
    const want = posted;
    await engine.until(() => engine.settled.filter((e) => e.flow === 'orders' && e.outcome !== 'retry').length === want);
  };
  /** The notices the receiver accepted (2xx), parsed. */
  const accepted = () => receiver.got.filter((d) => d.status < 300).map((d) => JSON.parse(d.body) as AlertNotice);
  return { engine, sink, receiver, alerts, send, accepted };
}

describe('alerts in a running engine', () => {
  it('a failing sink fires the rule once (one signed notice), a recovery resolves it, and a relapse within the cool-down sends nothing', async (t) => {
    const { engine, sink, receiver, alerts, send, accepted } = await alertingEngine(t);
    sink.setDefault('503');
    await send(4);
    const fired = await alerts.evaluate();
    assert.equal(fired.length, 1);
    assert.deepEqual(await alerts.evaluate(), [], 'still failing: not again');
    await engine.until(() => accepted().length === 1);
    assert.ok(receiver.got.every((d) => d.verified), 'every notice is signed with the connector\'s secret');
    const [notice] = accepted();
    assert.equal(notice?.rule, 'orders-failing');
    assert.equal(notice?.status, 'firing');
    assert.equal(notice?.value, 1);
    assert.equal(notice?.threshold, 0.5);
    assert.equal(notice?.flow, 'orders');

    sink.setDefault('200');
    await send(6);
    const [resolved] = await alerts.evaluate();
    assert.equal(resolved?.status, 'resolved', '4 errors in 10 is below 0.5');
    await engine.until(() => accepted().length === 2);
    assert.equal(accepted()[1]?.since, notice?.since);
    assert.notEqual(receiver.got[1]?.headers['webhook-id'], receiver.got[0]?.headers['webhook-id'], 'a resolve is a notice of its own');

    sink.setDefault('503');
    await send(8);
    assert.deepEqual(await alerts.evaluate(), [], '12 errors in 18 holds, but the rule fired less than an hour ago');
    assert.deepEqual(await engine.store.stats('junction:alerts:ops-hook'), { queued: 0, running: 0, done: 2, dead: 0 });
    assert.equal(receiver.got.length, 2);
  });

  it('a notice whose receiver answers 503 first is retried and arrives once, with the same webhook-id', async (t) => {
    const { engine, sink, receiver, alerts, send, accepted } = await alertingEngine(t);
    receiver.plan([503]);
    sink.setDefault('503');
    await send(4);
    assert.equal((await alerts.evaluate()).length, 1);
    await engine.until(() => accepted().length === 1);
    assert.deepEqual(receiver.got.map((d) => d.status), [503, 200]);
    assert.ok(receiver.got.every((d) => d.verified));
    assert.equal(receiver.got[1]?.headers['webhook-id'], receiver.got[0]?.headers['webhook-id']);
    await engine.until(async () => (await engine.store.stats('junction:alerts:ops-hook')).done === 1);
  });
});

it('a rule may notify a rest connector: the notice is POSTed to its baseUrl with an Idempotency-Key', async (t) => {
  const ops = await startTestSink(t);
  const engine = await startTestEngine(
    t,
    `
store: sqlite:./j.db
connectors:
  ops: { type: rest, baseUrl: "${ops.url}/alerts" }
flows:
  orders:
    trigger: { http: { path: /orders } }
    steps:
      - map: { n: n }
alerts:
  evaluateEvery: 1h
  rules:
    queue-old: { when: { queueAge: { flow: orders, aboveMs: 1 } }, notify: { connector: ops } }
`,
    { workers: false },
  );
  assert.equal((await engine.post('/orders', { n: 1 })).status, 202);
  // Without workers nothing claims the order, and nothing delivers the notice: it waits, durable.
  await engine.until(async () => (await engine.alerts!.evaluate()).length === 1);
  assert.equal((await engine.store.stats('junction:alerts:ops')).queued, 1);
  engine.worker.start();
  await engine.until(() => ops.requests.some((r) => r.url === '/alerts'));
  const [req] = ops.requests;
  assert.equal(req?.method, 'POST');
  assert.match(req?.idempotencyKey ?? '', /^alert:queue-old:\d+:firing$/);
  assert.equal((JSON.parse(req!.body) as AlertNotice).rule, 'queue-old');
});

describe('junction check refuses alert rules that cannot work', () => {
  const base = [
    'connectors:',
    '  crm: { type: rest, baseUrl: "http://127.0.0.1:1" }',
    '  shop: { type: graphql, endpoint: "http://127.0.0.1:2/graphql" }',
    '  hook: { type: rest, baseUrl: "http://127.0.0.1:3/alerts" }',
    'flows:',
    '  orders:',
    '    trigger: { http: { path: /orders } }',
    '    steps:',
    '      - deliver: { connector: crm }',
    'alerts:',
    '  rules:',
  ];
  const cases: { name: string; rule: string; expect: [string, string][] }[] = [
    { name: 'an unknown flow', rule: '    r: { when: { queueAge: { flow: order, aboveMs: 1000 } }, notify: { connector: hook } }', expect: [['12:36 alerts.rules.r.when.queueAge.flow', 'unknown flow "order" (did you mean "orders"?)']] },
    { name: 'an unknown connector', rule: '    r: { when: { circuitOpen: { connector: crn } }, notify: { connector: hook } }', expect: [['12:44 alerts.rules.r.when.circuitOpen.connector', 'unknown connector "crn" (did you mean "crm"?)']] },
    { name: 'an unknown notify connector', rule: '    r: { when: { circuitOpen: { connector: crm } }, notify: { connector: hooks } }', expect: [['12:74 alerts.rules.r.notify.connector', 'unknown connector "hooks"']] },
    { name: 'a notify connector that is not webhook or rest', rule: '    r: { when: { circuitOpen: { connector: crm } }, notify: { connector: shop } }', expect: [['12:74 alerts.rules.r.notify.connector', 'connector "shop" is of type graphql; alert notices go through a connector of type webhook or rest (such as crm, hook)']] },
    { name: 'two conditions in one rule', rule: '    r: { when: { circuitOpen: { connector: crm }, queueAge: { flow: orders, aboveMs: 1 } }, notify: { connector: hook } }', expect: [['12:10 alerts.rules.r.when', 'a condition has exactly one key']] },
    { name: 'both a flow and a connector', rule: '    r: { when: { p95: { flow: orders, connector: crm, aboveMs: 100 } }, notify: { connector: hook } }', expect: [['12:18 alerts.rules.r.when.p95', 'name either a flow or a connector']] },
    { name: 'a live-figure window longer than the hour kept', rule: '    r: { when: { errorRatio: { flow: orders, above: 0.1, window: 2h } }, notify: { connector: hook } }', expect: [['12:66 alerts.rules.r.when.errorRatio.window', 'at most 1h']] },
    { name: 'a ratio above 1', rule: '    r: { when: { errorRatio: { flow: orders, above: 20 } }, notify: { connector: hook } }', expect: [['12:53 alerts.rules.r.when.errorRatio.above', '']] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const result = parseConfigText(`${[...base, c.rule].join('\n')}\n`, 'junction.yaml', {});
      const got = result.ok ? [] : result.issues.map((i) => ({ where: `${i.line}:${i.column} ${i.path}`, message: i.message }));
      assert.deepEqual(got.map((g) => g.where), c.expect.map(([w]) => w), JSON.stringify(got, null, 2));
      for (const [i, [, fragment]] of c.expect.entries()) assert.ok(got[i]!.message.includes(fragment), got[i]!.message);
    });
  }

  it('accepts the rules of the README', () => {
    const rules = [
      '    orders-failing: { when: { errorRatio: { flow: orders, above: 0.2, window: 5m, minEvents: 20 } }, notify: { connector: hook }, coolDown: 15m }',
      '    crm-slow: { when: { p95: { connector: crm, aboveMs: 2000, window: 5m } }, notify: { connector: hook } }',
      '    dlq-growing: { when: { deadLetters: { flow: orders, growsBy: 10, window: 10m } }, notify: { connector: hook } }',
      '    crm-open: { when: { circuitOpen: { connector: crm } }, notify: { connector: hook } }',
      '    queue-old: { when: { queueAge: { flow: orders, aboveMs: 60000 } }, notify: { connector: hook } }',
    ];
    const result = parseConfigText(`${[...base, ...rules].join('\n')}\n`, 'junction.yaml', {});
    assert.ok(result.ok, JSON.stringify(result.ok ? [] : result.issues, null, 2));
    assert.equal(result.config.alerts?.rules['orders-failing']?.coolDown, 15 * MIN);
  });

  it('accepts the example config (examples/alerts)', async () => {
    const loaded = await loadConfig(fileURLToPath(new URL('../../examples/alerts/junction.yaml', import.meta.url)), { env: {} });
    assert.deepEqual(Object.keys(loaded.config.alerts?.rules ?? {}), ['orders-failing', 'crm-slow', 'dlq-growing', 'crm-open', 'queue-old']);
  });
});
