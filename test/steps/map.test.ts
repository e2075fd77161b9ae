/**
 * map: one JSONata expression per output field, in a shorthand or a long form
 * with default, type and required. Missing and null are kept apart; a value that
 * cannot take its declared type fails the message with a permanent error.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { z } from 'zod';
import { parseConfigText } from '../../src/config/load.ts';
import { systemClock } from '../../src/core/clock.ts';
import type { JunctionError } from '../../src/core/errors.ts';
import type { Json, Message } from '../../src/core/message.ts';
import { coerce, type MapType } from '../../src/steps/coerce.ts';
import { mapOptions, mapStep } from '../../src/steps/map.ts';
import { startTestEngine } from '../helpers/engine.ts';
import { junctionRejection } from '../helpers/rejection.ts';
import { startTestSink } from '../helpers/sink.ts';
import { message, stepContext, stepDeps } from '../helpers/step.ts';

const deps = stepDeps({ index: 1 });
const ctx = stepContext(systemClock);

/** An order from the north shop, received on 1 March 2024. */
function order(body: Json): Message {
  return message(body, { headers: { 'x-shop': 'north' }, meta: { receivedAt: '2024-03-01T00:00:00.000Z' } });
}

/** The body the map makes from this input. */
async function mapped(options: z.input<typeof mapOptions>, body: Json): Promise<Json> {
  const step = await mapStep.create(mapOptions.parse(options), deps);
  const out = await step(order(body), ctx);
  assert.ok(!Array.isArray(out) && typeof out === 'object');
  return (out as Message).body;
}

function failure(options: z.input<typeof mapOptions>, body: Json): Promise<JunctionError> {
  return junctionRejection(mapped(options, body), 'the map succeeded');
}

describe('map step', () => {
  it('maps shorthand fields with $headers and $meta bound, keeping the rest of the message', async () => {
    const step = await mapStep.create(mapOptions.parse({ orderId: 'id', total: '$sum(items.(price * qty))', shop: "$headers.'x-shop'" }), deps);
    const msg = order({ id: 'A-1', items: [{ price: 2.5, qty: 4 }, { price: 1, qty: 1 }] });
    const out = (await step(msg, ctx)) as Message;
    assert.deepEqual(out.body, { orderId: 'A-1', total: 11, shop: 'north' });
    assert.equal(out.id, msg.id);
    assert.deepEqual(out.headers, msg.headers);
    assert.deepEqual(msg.body, { id: 'A-1', items: [{ price: 2.5, qty: 4 }, { price: 1, qty: 1 }] }, 'the input is not changed');
  });

  it('leaves a missing field out and keeps a null, in both forms', async () => {
    const body = await mapped({ a: 'missing', b: 'present', c: { expr: 'missing' }, d: { expr: 'present' } }, { present: null });
    assert.deepEqual(body, { b: null, d: null });
    assert.ok(!Object.hasOwn(body as object, 'a'));
  });

  it('uses the default when the expression yields nothing, not when it yields null', async () => {
    const options = { status: { expr: 'status', default: 'new' }, tags: { expr: 'tags', default: [] as Json } };
    assert.deepEqual(await mapped(options, {}), { status: 'new', tags: [] });
    assert.deepEqual(await mapped(options, { status: null, tags: null }), { status: null, tags: null });
    assert.deepEqual(await mapped(options, { status: 'paid', tags: ['x'] }), { status: 'paid', tags: ['x'] });
    assert.deepEqual(await mapped({ note: { expr: 'note', default: null } }, {}), { note: null }, 'a null default is a value too');
  });

  it('converts the default to the field type', async () => {
    assert.deepEqual(await mapped({ qty: { expr: 'qty', type: 'integer', default: '1' } }, {}), { qty: 1 });
  });

  it('fails a required field that yields nothing, permanently, naming the field and the expression', async () => {
    const err = await failure({ email: { expr: 'customer.email', required: true } }, { customer: {} });
    assert.equal(err.code, 'JNC_MAP_REQUIRED');
    assert.equal(err.family, 'permanent');
    assert.equal(err.retryable, false);
    assert.equal(err.message, 'Step orders[1].map: required field email is missing (customer.email yielded nothing)');
  });

  it('accepts null for a required field, and a default satisfies it', async () => {
    assert.deepEqual(await mapped({ email: { expr: 'email', required: true } }, { email: null }), { email: null });
    assert.deepEqual(await mapped({ email: { expr: 'email', required: true, default: 'n/a' } }, {}), { email: 'n/a' });
  });

  it('converts values to the declared type', async () => {
    const body = await mapped(
      {
        s: { expr: 'n', type: 'string' },
        sb: { expr: 'b', type: 'string' },
        n: { expr: 'ns', type: 'number' },
        i: { expr: 'is', type: 'integer' },
        i2: { expr: 'n2', type: 'integer' },
        bool: { expr: 'bs', type: 'boolean' },
        bool1: { expr: 'one', type: 'boolean' },
        at: { expr: 'ts', type: 'date-time' },
        epoch: { expr: 'ms', type: 'date-time' },
        none: { expr: 'nothing', type: 'number' },
      },
      { n: 12.5, b: true, ns: ' 12.5 ', is: '42', n2: 7, bs: 'FALSE', one: 1, ts: '2024-03-01T10:00:00+02:00', ms: 0, nothing: null },
    );
    assert.deepEqual(body, {
      s: '12.5',
      sb: 'true',
      n: 12.5,
      i: 42,
      i2: 7,
      bool: false,
      bool1: true,
      at: '2024-03-01T08:00:00.000Z',
      epoch: '1970-01-01T00:00:00.000Z',
      none: null,
    });
  });

  it('fails a value that cannot take its type, permanently, naming the field, the type and the value', async () => {
    const err = await failure({ orderId: 'id', total: { expr: 'total', type: 'number' } }, { id: 'A', total: '12,50' });
    assert.equal(err.code, 'JNC_MAP_TYPE');
    assert.equal(err.family, 'permanent');
    assert.equal(err.message, 'Step orders[1].map: field total must be a number; got a string "12,50"');
    assert.deepEqual(err.details, { field: 'total', type: 'number' });
  });

  it('fails an expression that throws on this input, permanently', async () => {
    const err = await failure({ x: '$number(a)' }, { a: 'abc' });
    assert.equal(err.code, 'JNC_STEP_INVALID');
    assert.match(err.message, /^Step orders\[1\]\.map\.x cannot process this message: /);
  });
});

describe('coerce', () => {
  const ok: [MapType, Json, Json][] = [
    ['string', 'a', 'a'],
    ['string', 0, '0'],
    ['string', false, 'false'],
    ['number', 3, 3],
    ['number', '-3', -3],
    ['number', '1e3', 1000],
    ['number', '.5', 0.5],
    ['integer', '12.0', 12],
    ['integer', -4, -4],
    ['integer', '9007199254740991', 9007199254740991],
    ['boolean', true, true],
    ['boolean', 'true', true],
    ['boolean', 'False', false],
    ['boolean', 0, false],
    ['date-time', '2024-03-01', '2024-03-01T00:00:00.000Z'],
    ['date-time', '2024-03-01T10:00:00', '2024-03-01T10:00:00.000Z'],
    ['date-time', '2024-03-01T10:00Z', '2024-03-01T10:00:00.000Z'],
    ['date-time', '2024-02-29T23:59:59.123456-0130', '2024-03-01T01:29:59.123Z'],
    ['date-time', 1709287200000, '2024-03-01T10:00:00.000Z'],
  ];
  for (const [type, input, expected] of ok) {
    it(`${type} ← ${JSON.stringify(input)} is ${JSON.stringify(expected)}`, () => {
      assert.deepEqual(coerce(input, type), { ok: true, value: expected });
    });
  }

  it('keeps null for every type', () => {
    for (const type of ['string', 'number', 'integer', 'boolean', 'date-time'] as const) assert.deepEqual(coerce(null, type), { ok: true, value: null });
  });

  const refused: [MapType, Json, string][] = [
    ['string', { a: 1 }, 'got an object {"a":1}'],
    ['string', [1], 'got a list [1]'],
    ['number', '', 'got a string ""'],
    ['number', '12,5', 'got a string "12,5"'],
    ['number', '0x10', 'got a string "0x10"'],
    ['number', 'Infinity', 'got a string "Infinity"'],
    ['number', true, 'got a boolean true'],
    ['integer', 12.5, 'got a number 12.5 (not a whole number)'],
    ['integer', '1.5', 'got a string "1.5" (not a whole number)'],
    ['integer', 'two', 'got a string "two"'],
    ['integer', 2 ** 60, 'got a number 1152921504606847000 (outside ±2^53, where integers lose precision)'],
    ['boolean', 'yes', 'got a string "yes"'],
    ['boolean', 2, 'got a number 2'],
    ['date-time', 'March 7, 2024', 'got a string "March 7, 2024" (not an ISO 8601 date or date-time)'],
    ['date-time', '2024-02-30', 'got a string "2024-02-30" (not a calendar date and time)'],
    ['date-time', '2024-03-01T24:00:00Z', 'got a string "2024-03-01T24:00:00Z" (not a calendar date and time)'],
    ['date-time', '1709287200000', 'got a string "1709287200000" (not an ISO 8601 date or date-time)'],
    ['date-time', 1e20, 'got a number 100000000000000000000 (outside the range of dates)'],
    ['date-time', true, 'got a boolean true'],
  ];
  for (const [type, input, reason] of refused) {
    it(`${type} ← ${JSON.stringify(input)} is refused`, () => {
      assert.deepEqual(coerce(input, type), { ok: false, reason });
    });
  }

  it('cuts a long value in the reason', () => {
    const r = coerce('x'.repeat(500), 'number');
    assert.ok(!r.ok && r.reason.length < 100, !r.ok ? r.reason : '');
  });
});

describe('map options in the config', () => {
  const yaml = (...fields: string[]) => ['flows:', '  a:', '    trigger: { http: { path: /a } }', '    steps:', '      - map:', ...fields, ''].join('\n');
  const issues = (text: string) => {
    const r = parseConfigText(text, 'junction.yaml', {});
    return r.ok ? [] : r.issues.map((i) => `${i.line}:${i.column} ${i.path}: ${i.message}`);
  };

  it('accepts both forms and fills in required: false', () => {
    const r = parseConfigText(yaml('          id: id', '          total: { expr: total, type: number, default: 0 }'), 'junction.yaml', {});
    assert.ok(r.ok);
    assert.deepEqual(r.config.flows.a!.steps[0]!.options, { id: 'id', total: { expr: 'total', type: 'number', default: 0, required: false } });
  });

  it('checks the expression of the long form like the shorthand', () => {
    assert.deepEqual(issues(yaml('          total: { expr: "$sum(", type: number }')), [
      '6:26 flows.a.steps[0].map.total.expr: invalid JSONata expression: Expected ")" before end of expression (at character 5)',
    ]);
    assert.deepEqual(issues(yaml('          total: $sum(')), ['6:18 flows.a.steps[0].map.total: invalid JSONata expression: Expected ")" before end of expression (at character 5)']);
  });

  it('refuses a default that cannot take the field type', () => {
    assert.deepEqual(issues(yaml('          total: { expr: x, type: number, default: abc }')), ['6:52 flows.a.steps[0].map.total.default: must be a number; got a string "abc"']);
  });

  it('says what is wrong with a long form', () => {
    assert.deepEqual(issues(yaml('          total: { exp: x, type: numbr }')), [
      '6:11 flows.a.steps[0].map.total: missing required key "expr"; type: expected one of string, number, integer, boolean, date-time; unknown key "exp" (a field takes expr, default, type, required)',
    ]);
    assert.deepEqual(issues(yaml('          total: { expr: x, required: yes }')), ['6:11 flows.a.steps[0].map.total: required: expected true or false']);
    assert.deepEqual(issues(yaml('          total: 5')), ['6:18 flows.a.steps[0].map.total: expected a JSONata expression (a string) or a mapping with expr, default, type, required']);
  });
});

describe('map step in a running engine', () => {
  it('dead-letters a message whose field cannot take its type, with the field, type and value in the reason', async (t) => {
    const sink = await startTestSink(t);
    const engine = await startTestEngine(
      t,
      `
store: sqlite:./junction.db
worker: { pollMs: 20 }
connectors:
  sink: { type: rest, baseUrl: "${sink.url}", retry: { maxAttempts: 3, baseMs: 10, maxMs: 50 } }
flows:
  orders:
    trigger: { http: { path: /orders } }
    steps:
      - map:
          orderId: id
          qty: { expr: qty, type: integer, required: true }
          placedAt: { expr: placedAt, type: date-time }
          status: { expr: status, default: new }
      - deliver: { connector: sink, request: { path: /orders } }
`,
    );
    const bad = await engine.post('/orders', { id: 'A-1', qty: 'two' });
    const good = await engine.post('/orders', { id: 'A-2', qty: '2', placedAt: 1709287200000, status: null });
    const stateOf = async (id: unknown) => (await engine.store.getMessage(id as string))?.state;
    await engine.until(async () => (await stateOf(bad.json.id)) === 'dead' && (await stateOf(good.json.id)) === 'done');

    const dl = await engine.store.deadLetters.get(bad.json.id as string);
    assert.equal(dl?.errorCode, 'JNC_MAP_TYPE');
    assert.equal(dl.attempts, 1, 'no retry');
    assert.equal(dl.error, 'Step orders[0].map: field qty must be an integer; got a string "two"');
    assert.deepEqual(dl.body, { id: 'A-1', qty: 'two' }, 'the original payload');

    assert.equal(sink.requests.length, 1);
    assert.deepEqual(JSON.parse(sink.requests[0]!.body), { orderId: 'A-2', qty: 2, placedAt: '2024-03-01T10:00:00.000Z', status: null });
  });
});
