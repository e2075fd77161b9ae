/**
 * validate: a body that does not match its JSON Schema is an input error that
 * lists every violation (pointer, rule, message, value). At ingress the sender
 * gets a 422 problem and nothing is stored; inside a flow it is a dead letter.
 * A schema that cannot be used stops start-up.
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { z } from 'zod';
import { parseConfigText } from '../../src/config/load.ts';
import { systemClock } from '../../src/core/clock.ts';
import type { JunctionError } from '../../src/core/errors.ts';
import type { Json } from '../../src/core/message.ts';
import type { Step } from '../../src/steps/step.ts';
import { validateOptions, validateStep } from '../../src/steps/validate.ts';
import type { Violation } from '../../src/steps/validate-violations.ts';
import { startTestEngine } from '../helpers/engine.ts';
import { junctionRejection } from '../helpers/rejection.ts';
import { startTestSink } from '../helpers/sink.ts';
import { message, stepContext, stepDeps } from '../helpers/step.ts';

const FIXTURES = fileURLToPath(new URL('../fixtures/schemas/', import.meta.url));

const deps = stepDeps({ baseDir: FIXTURES });
const ctx = stepContext(systemClock);

function make(options: z.input<typeof validateOptions>): Promise<Step> {
  return Promise.resolve(validateStep.create(validateOptions.parse(options), deps));
}

/** The error the step throws on this body. */
function refusal(step: Step, body: Json): Promise<JunctionError> {
  return junctionRejection(step(message(body), ctx), 'the body was accepted');
}

const violationsOf = (e: JunctionError) => (e.details?.violations ?? []) as Violation[];

const validOrder = {
  id: 'A-1',
  customer: { email: 'ann@example.com' },
  placedAt: '2024-03-01T10:00:00Z',
  size: [10, 20],
  items: [{ sku: 'pen', qty: 2, price: 1.5 }],
};

describe('validate step', () => {
  it('passes a body that matches, unchanged', async () => {
    const step = await make({ schema: 'order.json' });
    const msg = message(validOrder);
    assert.equal(await step(msg, ctx), msg);
  });

  it('lists every violation with its pointer, rule, message and value', async () => {
    const step = await make({ schema: 'order.json' });
    const err = await refusal(step, {
      id: '',
      customer: { email: 'not-an-email' },
      placedAt: 'yesterday',
      items: [{ sku: 'pen', qty: 0, colour: 'red' }, { qty: 1.5 }],
    });
    assert.equal(err.code, 'JNC_INPUT_SCHEMA');
    assert.equal(err.family, 'input');
    assert.equal(err.status, 422);
    const byPointer = new Map(violationsOf(err).map((v) => [v.pointer, v]));
    assert.deepEqual(byPointer.get('/items/0/qty'), { pointer: '/items/0/qty', rule: 'minimum', message: 'must be >= 1', value: 0 });
    assert.deepEqual(byPointer.get('/id'), { pointer: '/id', rule: 'minLength', message: 'must NOT have fewer than 1 characters', value: '' });
    assert.deepEqual(byPointer.get('/customer/email'), { pointer: '/customer/email', rule: 'format', message: 'must match format "email"', value: 'not-an-email' });
    assert.deepEqual(byPointer.get('/placedAt'), { pointer: '/placedAt', rule: 'format', message: 'must match format "date-time"', value: 'yesterday' });
    assert.deepEqual(byPointer.get('/items/1/qty'), { pointer: '/items/1/qty', rule: 'type', message: 'must be integer', value: 1.5 });
    // A missing or extra property is pointed at itself, not at the object that holds it.
    assert.deepEqual(byPointer.get('/items/1/sku'), { pointer: '/items/1/sku', rule: 'required', message: 'is required' });
    assert.deepEqual(byPointer.get('/items/0/colour'), { pointer: '/items/0/colour', rule: 'additionalProperties', message: 'is not allowed here', value: 'red' });
    assert.equal(byPointer.size, 7);
    assert.match(err.message, /^Body does not match the schema: 7 violations: /);
    for (const v of byPointer.values()) assert.ok(err.message.includes(`${v.pointer} ${v.message}`), `the message names ${v.pointer}`);
    assert.ok(err.message.includes('/items/0/qty must be >= 1 (got 0)'));
  });

  it('points at the body itself with an empty pointer', async () => {
    const step = await make({ schema: { type: 'object' } });
    const err = await refusal(step, [1, 2]);
    assert.deepEqual(violationsOf(err), [{ pointer: '', rule: 'type', message: 'must be object', value: [1, 2] }]);
    assert.match(err.message, /\(body\) must be object \(got \[1,2\]\)/);
  });

  it('checks formats: email and date-time', async () => {
    const step = await make({ schema: { type: 'object', properties: { email: { format: 'email' }, at: { format: 'date-time' } } } });
    await step(message({ email: 'a@example.com', at: '2024-03-01T10:00:00.5+02:00' }), ctx);
    const err = await refusal(step, { email: 'a@', at: '2024-03-01' });
    assert.deepEqual(
      violationsOf(err).map((v) => [v.pointer, v.rule]),
      [['/email', 'format'], ['/at', 'format']],
    );
  });

  it('reads a schema as draft 2020-12 by default and when its $schema says so', async () => {
    // prefixItems and items: false are 2020-12: a pair, nothing more.
    const pair = { properties: { size: { prefixItems: [{ type: 'number' }, { type: 'number' }], items: false } } };
    for (const schema of [pair, { $schema: 'https://json-schema.org/draft/2020-12/schema', ...pair }]) {
      const step = await make({ schema });
      await step(message({ size: [1, 2] }), ctx);
      const err = await refusal(step, { size: [1, 2, 3] });
      assert.deepEqual(violationsOf(err), [{ pointer: '/size', rule: 'items', message: 'must NOT have more than 2 items', value: [1, 2, 3] }]);
    }
    const fromFile = await make({ schema: 'order.json' });
    assert.deepEqual(violationsOf(await refusal(fromFile, { ...validOrder, size: [1, 2, 3] })).map((v) => v.pointer), ['/size']);
  });

  it('reads a draft-07 schema as draft-07: tuple items, additionalItems, dependencies', async () => {
    const step = await make({ schema: 'order-draft07.json' });
    await step(message({ id: 'A', tags: ['first', 'x'], refund: true, reason: 'damaged' }), ctx);
    const err = await refusal(step, { id: 1, tags: ['nope', 3], refund: true });
    assert.deepEqual(
      new Set(violationsOf(err)),
      new Set([
        { pointer: '/reason', rule: 'dependencies', message: 'is required when refund is present' },
        { pointer: '/id', rule: 'type', message: 'must be string', value: 1 },
        { pointer: '/tags/0', rule: 'const', message: 'must be "first"', value: 'nope' },
        { pointer: '/tags/1', rule: 'type', message: 'must be string', value: 3 },
      ]),
    );
  });

  it('reads a YAML schema file whose $ref loads other files relative to it', async () => {
    const step = await make({ schema: 'customer.yaml' });
    await step(message({ email: 'a@example.com', address: { zip: '12345' } }), ctx);
    const err = await refusal(step, { email: 'a@example.com', address: { zip: 'abc' } });
    assert.deepEqual(violationsOf(err), [{ pointer: '/address/zip', rule: 'pattern', message: 'must match pattern "^[0-9]{5}$"', value: 'abc' }]);
  });

  it('takes an inline schema, even a deep-frozen one from the config', async () => {
    const schema = Object.freeze({ type: 'object', required: Object.freeze(['id']), properties: Object.freeze({ id: Object.freeze({ type: 'string' }) }) });
    const step = await make({ schema });
    await step(message({ id: 'x' }), ctx);
    assert.deepEqual(violationsOf(await refusal(step, {})), [{ pointer: '/id', rule: 'required', message: 'is required' }]);
  });

  it('names the allowed values of an enum and escapes ~ and / in pointers', async () => {
    const step = await make({ schema: { properties: { 'a/b~c': { enum: ['x', 'y'] } }, additionalProperties: false } });
    const err = await refusal(step, { 'a/b~c': 'z', 'n/o': 1 });
    assert.deepEqual(violationsOf(err), [
      { pointer: '/n~1o', rule: 'additionalProperties', message: 'is not allowed here', value: 1 },
      { pointer: '/a~1b~0c', rule: 'enum', message: 'must be one of "x", "y"', value: 'z' },
    ]);
  });

  it('keeps the list bounded: 50 violations, the rest counted, large values cut', async () => {
    const step = await make({ schema: { type: 'array', items: { type: 'string' } } });
    const err = await refusal(step, Array.from({ length: 80 }, (_, i) => i));
    assert.equal(violationsOf(err).length, 50);
    assert.equal(err.details?.omitted, 30);
    assert.match(err.message, /^Body does not match the schema: 80 violations: \/0 must be string \(got 0\);.*; and 30 more$/);

    const big = await make({ schema: { properties: { blob: { type: 'number' } } } });
    const bigErr = await refusal(big, { blob: 'x'.repeat(10_000) });
    const v = violationsOf(bigErr)[0]!;
    assert.equal(typeof v.value, 'string');
    assert.ok((v.value as string).length < 300, 'the value is cut');
    assert.match(v.value as string, /… \(10002 chars\)$/);
    assert.ok(bigErr.message.length < 200, bigErr.message);
  });

  it('runs at ingress only when at: ingress', () => {
    assert.equal(validateStep.atIngress?.(validateOptions.parse({ schema: 'order.json', at: 'ingress' })), true);
    assert.equal(validateStep.atIngress?.(validateOptions.parse({ schema: 'order.json' })), false);
    assert.equal(validateStep.atIngress?.(validateOptions.parse({ schema: 'order.json', at: 'flow' })), false);
  });
});

describe('validate step: schemas that cannot be used stop start-up', () => {
  const cases: [string, z.input<typeof validateOptions>['schema'], RegExp][] = [
    ['a missing file, with its path', 'missing.json', /^schema file \/.*\/fixtures\/schemas\/missing\.json cannot be read: no such file$/],
    ['a file that is not JSON', 'broken.json', /^schema file \/.*broken\.json is not valid JSON: /],
    ['a schema that does not compile', 'does-not-compile.json', /^schema file \/.*does-not-compile\.json does not compile: schema is invalid: data\/type must be equal to one of the allowed values/],
    ['an unsupported draft', 'unknown-draft.json', /has \$schema "http:\/\/json-schema\.org\/draft-04\/schema#"; supported drafts are .*2020-12.*2019-09.*draft-07/],
    ['a $ref that is not a file', { $ref: 'https://example.com/order.json' }, /^the inline schema does not compile: .*https:\/\/example\.com\/order\.json, which is not a file/],
    ['a $ref to a missing file', { $ref: 'nowhere.json' }, /^the inline schema does not compile: schema file \/.*\/nowhere\.json cannot be read: no such file$/],
  ];
  for (const [name, schema, expected] of cases) {
    it(name, async () => {
      await assert.rejects(make({ schema }), (e: Error) => {
        assert.match(e.message, expected);
        return true;
      });
    });
  }

  it('reports the step in the start-up error', async (t) => {
    await assert.rejects(
      startTestEngine(t, `
store: sqlite:./junction.db
flows:
  orders:
    trigger: { http: { path: /orders } }
    steps:
      - validate: { schema: ./schemas/order.json }
`),
      (e: JunctionError) => {
        assert.equal(e.code, 'JNC_CONFIG_INVALID');
        assert.match(e.message, /flows\.orders\.steps\[0\]\.validate: schema file \/.*\/schemas\/order\.json cannot be read: no such file/);
        return true;
      },
    );
  });

  it('reports a schema option of the wrong kind with its line', () => {
    const text = ['flows:', '  a:', '    trigger: { http: { path: /a } }', '    steps:', '      - validate: { schema: 5, at: edge }', ''].join('\n');
    const result = parseConfigText(text, 'junction.yaml', {});
    assert.ok(!result.ok);
    assert.deepEqual(
      result.issues.map((i) => `${i.line} ${i.path}: ${i.message}`),
      ['5 flows.a.steps[0].validate.schema: expected the path of a schema file, or a schema written inline (a mapping)', '5 flows.a.steps[0].validate.at: expected one of ingress, flow'],
    );
  });
});

describe('validate step in a running engine', () => {
  async function setup(t: TestContext) {
    const sink = await startTestSink(t);
    const engine = await startTestEngine(
      t,
      `
store: sqlite:./junction.db
worker: { pollMs: 20 }
connectors:
  sink: { type: rest, baseUrl: "${sink.url}", retry: { maxAttempts: 3, baseMs: 10, maxMs: 50 } }
flows:
  at-ingress:
    trigger: { http: { path: /hooks/ingress } }
    steps:
      - validate: { schema: ${FIXTURES}order.json, at: ingress }
      - deliver: { connector: sink, request: { path: /ingress } }
  in-flow:
    trigger: { http: { path: /hooks/flow } }
    steps:
      - validate:
          schema:
            type: object
            required: [id, qty]
            properties: { id: { type: string }, qty: { type: integer, minimum: 1 } }
      - deliver: { connector: sink, request: { path: /flow } }
`,
    );
    return { sink, engine };
  }

  it('at ingress: refuses an invalid body with a 422 problem listing the violations, and stores nothing', async (t) => {
    const { sink, engine } = await setup(t);
    const res = await engine.post('/hooks/ingress', { id: 'A-1', customer: { email: 'nope' }, items: [{ sku: 'pen', qty: 0 }] });
    assert.equal(res.status, 422);
    assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
    assert.equal(res.json.code, 'JNC_INPUT_SCHEMA');
    assert.equal(res.json.type, 'urn:junction:error:JNC_INPUT_SCHEMA');
    assert.equal(res.json.status, 422);
    assert.match(String(res.json.detail), /2 violations: .*\/customer\/email must match format "email"/);
    assert.deepEqual(new Set(res.json.violations as Violation[]), new Set([
      { pointer: '/customer/email', rule: 'format', message: 'must match format "email"', value: 'nope' },
      { pointer: '/items/0/qty', rule: 'minimum', message: 'must be >= 1', value: 0 },
    ]));
    const stats = await engine.store.stats();
    assert.equal(stats.queued + stats.running + stats.done + stats.dead, 0, 'nothing stored');
    assert.equal(sink.requests.length, 0);
  });

  it('at ingress: accepts a valid body with 202 and delivers it', async (t) => {
    const { sink, engine } = await setup(t);
    const res = await engine.post('/hooks/ingress', validOrder);
    assert.equal(res.status, 202);
    const id = res.json.id as string;
    await engine.until(async () => (await engine.store.getMessage(id))?.state === 'done');
    assert.deepEqual(JSON.parse(sink.requests[0]!.body), validOrder);
  });

  it('in the flow: an invalid body is accepted, then dead-lettered at once with the violations', async (t) => {
    const { sink, engine } = await setup(t);
    const res = await engine.post('/hooks/flow', { id: 7, qty: 0 });
    assert.equal(res.status, 202);
    const id = res.json.id as string;
    await engine.until(async () => (await engine.store.getMessage(id))?.state === 'dead');
    const dl = await engine.store.deadLetters.get(id);
    assert.equal(dl?.errorCode, 'JNC_INPUT_SCHEMA');
    assert.equal(dl.attempts, 1, 'no retry: the body will not change');
    assert.match(dl.error, /Body does not match the schema: 2 violations: /);
    assert.ok(dl.error.includes('/id must be string (got 7)'));
    assert.ok(dl.error.includes('/qty must be >= 1 (got 0)'));
    assert.deepEqual(dl.body, { id: 7, qty: 0 });
    assert.equal(sink.requests.length, 0);

    const ok = await engine.post('/hooks/flow', { id: 'B', qty: 2 });
    await engine.until(async () => (await engine.store.getMessage(ok.json.id as string))?.state === 'done');
  });
});
