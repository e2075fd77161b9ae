/**
 * filter: a truthy expression keeps the message, anything else drops it (done,
 * counted, not dead); an expression that throws on a message dead-letters it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isJunctionError } from '../../src/core/errors.ts';
import { filterOptions, filterStep, truthy } from '../../src/steps/filter.ts';
import { DROP } from '../../src/steps/step.ts';
import { startTestEngine } from '../helpers/engine.ts';
import { startTestSink } from '../helpers/sink.ts';
import { message, stepContext, stepDeps } from '../helpers/step.ts';

const ctx = stepContext();
const deps = stepDeps();

async function filterWith(options: unknown) {
  return filterStep.create(filterOptions.parse(options), deps);
}

describe('filter step', () => {
  it('keeps the message (unchanged) when the expression is truthy, drops it when not', async () => {
    const step = await filterWith('total > 100');
    const big = message({ total: 150 });
    assert.equal(await step(big, ctx), big);
    assert.equal(await step(message({ total: 50 }), ctx), DROP);
  });

  it('accepts { expr } as well as the shorthand, with $headers and $meta bound', async () => {
    const step = await filterWith({ expr: "$headers.'x-region' = 'eu' and $meta.channel = 'web'" });
    assert.notEqual(await step(message({}, { headers: { 'x-region': 'eu' }, meta: { channel: 'web' } }), ctx), DROP);
    assert.equal(await step(message({}, { headers: { 'x-region': 'us' }, meta: { channel: 'web' } }), ctx), DROP);
  });

  it('drops when the expression yields nothing (a missing field)', async () => {
    const step = await filterWith('customer.vip');
    assert.equal(await step(message({ total: 1 }), ctx), DROP);
  });

  it('uses JSONata truthiness: empty, zero, null and false are false', () => {
    const cases: [unknown, boolean][] = [
      [undefined, false], [null, false], [false, false], [0, false], [Number.NaN, false], ['', false], [[], false], [{}, false],
      [true, true], [1, true], [-1, true], ['no', true], [[0, 1], true], [[0], false], [[[]], false], [{ a: 0 }, true], [() => 1, false],
    ];
    for (const [value, expected] of cases) assert.equal(truthy(value), expected, String(JSON.stringify(value)));
  });

  it('turns an expression that throws on this message into a permanent STEP_INVALID', async () => {
    const step = await filterWith('$number(total) > 1');
    await assert.rejects(step(message({ total: 'lots' }), ctx), (e) => {
      assert.ok(isJunctionError(e));
      assert.equal(e.code, 'JNC_STEP_INVALID');
      assert.equal(e.retryable, false);
      assert.match(e.message, /orders\[0\]\.filter.*`\$number\(total\) > 1` failed: Unable to cast value to a number/);
      return true;
    });
  });

  it('refuses a syntax error or a wrong shape at config time', () => {
    for (const bad of ['total >', '', { expr: 'a' , extra: 1 }, { nope: 'a' }, 3]) {
      assert.equal(filterOptions.safeParse(bad).success, false, JSON.stringify(bad));
    }
  });

  it('in a flow: a dropped message is done and counted, a kept one is delivered, a throwing one is a dead letter', async (t) => {
    const sink = await startTestSink(t);
    const engine = await startTestEngine(
      t,
      `
store: sqlite:./junction.db
worker: { pollMs: 20 }
connectors:
  sink: { type: rest, baseUrl: "${sink.url}" }
flows:
  big-orders:
    trigger: { http: { path: /orders } }
    steps:
      - filter: "$number(total) >= 100"
      - deliver: { connector: sink, request: { path: /big } }
`,
    );
    const ids = [];
    for (const total of [150, 20, 'lots', 30]) ids.push((await engine.post('/orders', { total })).json.id as string);
    const [kept, small, broken, small2] = ids as [string, string, string, string];
    const state = async (id: string) => (await engine.store.getMessage(id))?.state;
    await engine.until(async () => (await state(kept)) === 'done' && (await state(small)) === 'done' && (await state(small2)) === 'done' && (await state(broken)) === 'dead');
    assert.equal(engine.settled.filter((e) => e.flow === 'big-orders' && e.dropped !== undefined).length, 2, 'two settled as dropped');
    assert.deepEqual(sink.requests.map((r) => JSON.parse(r.body)), [{ total: 150 }]);
    const dl = await engine.store.deadLetters.get(broken);
    assert.equal(dl?.errorCode, 'JNC_STEP_INVALID');
    assert.match(dl?.reason[0] ?? '', /filter.*Unable to cast value to a number/);
    assert.equal(dl?.history.length, 1, 'not retried');
    assert.equal(await engine.store.deadLetters.count(), 1, 'a dropped message is not a dead letter');
  });
});
