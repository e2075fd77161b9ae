/**
 * code: a module of the user's own runs on each message, with the same retry and
 * dead-letter rules as every other step.
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { systemClock } from '../../src/core/clock.ts';
import { isJunctionError, type JunctionError } from '../../src/core/errors.ts';
import type { Message } from '../../src/core/message.ts';
import { codeOptions, codeStep, permanent, retryLater } from '../../src/steps/code.ts';
import { DROP, type Step } from '../../src/steps/step.ts';
import { startTestEngine } from '../helpers/engine.ts';
import { startTestSink, type Sink } from '../helpers/sink.ts';
import { message, stepContext, stepDeps } from '../helpers/step.ts';

const FIXTURES = fileURLToPath(new URL('../fixtures/code-steps/', import.meta.url));

/** The step as the runtime builds it, with relative paths starting at the fixtures. */
async function create(options: unknown): Promise<Step> {
  return codeStep.create(codeOptions.parse(options), stepDeps({ flow: 'leads', index: 1, baseDir: FIXTURES }));
}

const ctx = stepContext(systemClock);

/** A JSON lead, on attempt `attempt`. */
function lead(body: Message['body'], attempt = 1): Message {
  return message(body, { flow: 'leads', attempt, headers: { 'content-type': 'application/json' } });
}

/** Asserts a JunctionError with this code whose message matches. */
function junctionError(code: string, message: RegExp) {
  return (e: unknown): boolean => {
    assert.ok(isJunctionError(e), `expected a JunctionError, got ${String(e)}`);
    assert.equal(e.code, code);
    assert.match(e.message, message);
    return true;
  };
}

describe('code step: loading', () => {
  it('imports the module relative to the config directory and hands it the options', async () => {
    const run = await create({ module: './tag.ts', options: { tag: 'vip' } });
    const out = await run(lead({ name: 'ada' }), ctx);
    assert.deepEqual((out as Message).body, { name: 'ADA', tag: 'vip' });
    assert.equal((out as Message).id, 'm-1', 'the message keeps its identity');
  });

  it('takes the shorthand path, with options {}', () => {
    assert.deepEqual(codeOptions.parse('./keep.ts'), { module: './keep.ts', options: {} });
    assert.deepEqual(codeOptions.parse({ module: './keep.ts' }), { module: './keep.ts', options: {} });
    assert.equal(codeOptions.safeParse({ module: './keep.ts', extra: 1 }).success, false);
  });

  it('refuses a missing module, naming the path as written and where it looked', async () => {
    await assert.rejects(create('./nope.ts'), junctionError('JNC_CODE_NOT_FOUND', /Code module \.\/nope\.ts not found: no file at .*code-steps\/nope\.ts$/));
  });

  it('refuses a default export that is not a function, or none', async () => {
    await assert.rejects(create('./not-function.ts'), junctionError('JNC_CODE_NOT_FUNCTION', /default export of \.\/not-function\.ts is not a function \(it is an object\)/));
    await assert.rejects(create('./no-default.ts'), junctionError('JNC_CODE_NOT_FUNCTION', /no default export/));
  });

  it('refuses a module that throws while it is imported, keeping the cause', async () => {
    await assert.rejects(create('./throws-on-import.ts'), (e: JunctionError) => {
      junctionError('JNC_CODE_IMPORT_FAILED', /throws-on-import\.ts failed to load: SCORING_TABLE is not set/)(e);
      assert.match((e.cause as Error).message, /SCORING_TABLE/);
      return true;
    });
  });

  it('stops start-up with a config error that names the step', async (t) => {
    await assert.rejects(
      startTestEngine(t, `
store: sqlite:./junction.db
flows:
  leads:
    trigger: { http: { path: /leads } }
    steps:
      - code: ./steps/missing.ts
`),
      junctionError('JNC_CONFIG_INVALID', /flows\.leads\.steps\[0\]\.code: JNC_CODE_NOT_FOUND: Code module \.\/steps\/missing\.ts not found/),
    );
  });
});

describe('code step: results', () => {
  it('passes the message on unchanged when the function returns nothing', async () => {
    const run = await create('./keep.ts');
    const msg = lead({ a: 1 });
    assert.equal(await run(msg, ctx), msg);
  });

  it('passes DROP through', async () => {
    const run = await create('./drop.ts');
    assert.equal(await run(lead({ test: true }), ctx), DROP);
  });

  it('fills what a returned message leaves out from the input, and keeps id, flow and attempt', async () => {
    const run = await create('./split.ts');
    const out = (await run(lead({ items: [{ sku: 'a' }, { sku: 'b' }] }), ctx)) as Message[];
    assert.deepEqual(out.map((m) => [m.id, m.idempotencyKey, m.body]), [['m-1', 'k-1', { sku: 'a' }], ['m-1', 'k-1', { sku: 'b' }]]);
  });

  it('turns a return value that is not a message into a permanent error naming the module', async () => {
    const bad = await create('./bad-return.ts');
    await assert.rejects(
      bad(lead({}), ctx),
      junctionError('JNC_CODE_RESULT_INVALID', /^\.\/bad-return\.ts returned a number; return the message, an array of messages, DROP, or nothing$/),
    );
    const bodyOnly = await create('./body-only.ts');
    await assert.rejects(bodyOnly(lead({}), ctx), junctionError('JNC_CODE_RESULT_INVALID', /returned an object without a body; return the message \(\{ \.\.\.message, body \}\)/));
  });

  it('keeps permanent() and retryLater() as they are, and wraps a plain throw as transient', async () => {
    const reject = await create('./reject.ts');
    await assert.rejects(reject(lead({}), ctx), (e: JunctionError) => {
      assert.equal(e.code, 'JNC_STEP_REJECTED');
      assert.equal(e.retryable, false);
      assert.deepEqual(e.details, { field: 'email' });
      return true;
    });
    const flaky = await create('./flaky.ts');
    await assert.rejects(flaky(lead({}), ctx), (e: JunctionError) => {
      assert.equal(e.code, 'JNC_STEP_FAILED');
      assert.equal(e.message, 'Step ./flaky.ts failed: lookup service not ready');
      assert.equal(e.retryable, true);
      return true;
    });
    assert.equal(retryLater('busy', { afterMs: 250 }).retryAfterMs, 250);
    assert.equal(retryLater('busy', { afterMs: -5 }).retryAfterMs, 0);
    assert.equal(retryLater('busy').retryAfterMs, undefined);
    assert.equal(permanent('no', { cause: 'why' }).cause, 'why');
  });
});

function flows(sink: Sink, maxAttempts = 3): string {
  const step = (file: string, extra = '') => `- code: { module: ${FIXTURES}${file}${extra} }`;
  const flow = (name: string, code: string) => `
  ${name}:
    trigger: { http: { path: /${name} } }
    retry: { maxAttempts: ${maxAttempts}, baseMs: 10, maxMs: 2000 }
    steps:
      ${code}
      - deliver: { connector: sink, request: { path: /${name} } }`;
  return `
store: sqlite:./junction.db
worker: { pollMs: 20, leaseMs: 5000, drainMs: 1000 }
connectors:
  sink: { type: rest, baseUrl: "${sink.url}", timeoutMs: 2000, retry: { maxAttempts: 3, baseMs: 10, maxMs: 100 } }
flows:${flow('tag', step('tag.ts', ', options: { tag: vip }'))}${flow('keep', step('keep.ts'))}${flow('split', step('split.ts'))}${flow('drop', step('drop.ts'))}${flow('flaky', step('flaky.ts'))}${flow('reject', step('reject.ts'))}${flow('later', step('later.ts'))}${flow('bad', step('bad-return.ts'))}
`;
}

async function setup(t: TestContext, maxAttempts?: number) {
  const sink = await startTestSink(t);
  const engine = await startTestEngine(t, flows(sink, maxAttempts));
  const send = async (flow: string, body: unknown) => (await engine.post(`/${flow}`, body)).json.id as string;
  const settle = async (id: string, state: string) => engine.until(async () => (await engine.store.getMessage(id))?.state === state);
  const bodiesAt = (path: string) => sink.requests.filter((r) => r.url === path).map((r) => JSON.parse(r.body) as unknown);
  return { sink, engine, send, settle, bodiesAt };
}

describe('code step in a flow', () => {
  it('delivers what the function returned, or the message unchanged when it returned nothing', async (t) => {
    const { send, settle, bodiesAt } = await setup(t);
    await settle(await send('tag', { name: 'ada' }), 'done');
    await settle(await send('keep', { name: 'bob' }), 'done');
    assert.deepEqual(bodiesAt('/tag'), [{ name: 'ADA', tag: 'vip' }]);
    assert.deepEqual(bodiesAt('/keep'), [{ name: 'bob' }]);
  });

  it('fans out an array durably: each part is delivered with a key derived from the parent', async (t) => {
    const { sink, send, settle, bodiesAt } = await setup(t);
    const id = await send('split', { items: [{ sku: 'a' }, { sku: 'b' }, { sku: 'c' }] });
    await settle(id, 'done');
    await sink.waitFor((s) => s.requests.length === 3);
    assert.deepEqual(bodiesAt('/split').map((b) => (b as { sku: string }).sku).sort(), ['a', 'b', 'c']);
    assert.deepEqual(sink.requests.map((r) => r.idempotencyKey).sort(), [`${id}:0`, `${id}:1`, `${id}:2`]);
  });

  it('drops what the function drops, and delivers the rest', async (t) => {
    const { send, settle, bodiesAt } = await setup(t);
    await settle(await send('drop', { test: true }), 'done');
    await settle(await send('drop', { n: 2 }), 'done');
    assert.deepEqual(bodiesAt('/drop'), [{ n: 2 }]);
  });

  it('retries a plain throw and delivers when a later attempt succeeds', async (t) => {
    const { engine, send, settle, bodiesAt } = await setup(t);
    const id = await send('flaky', {});
    await settle(id, 'done');
    const rec = await engine.store.getMessage(id);
    assert.deepEqual(rec?.history.map((h) => h.errorCode ?? 'ok'), ['JNC_STEP_FAILED', 'ok']);
    assert.equal(rec?.history[0]?.error, 'Step ' + FIXTURES + 'flaky.ts failed: lookup service not ready');
    assert.deepEqual(bodiesAt('/flaky'), [{ attempt: 2 }]);
  });

  it('dead-letters a plain throw once maxAttempts is spent', async (t) => {
    const { engine, sink, send, settle } = await setup(t, 1);
    const id = await send('flaky', {});
    await settle(id, 'dead');
    const dl = await engine.store.deadLetters.get(id);
    assert.equal(dl?.errorCode, 'JNC_ATTEMPTS_EXHAUSTED');
    assert.match(dl?.reason.join('\n') ?? '', /JNC_STEP_FAILED.*lookup service not ready/);
    assert.equal(sink.requests.length, 0);
  });

  it('dead-letters permanent() at once, with its message', async (t) => {
    const { engine, sink, send, settle } = await setup(t);
    const id = await send('reject', { name: 'no email' });
    await settle(id, 'dead');
    const dl = await engine.store.deadLetters.get(id);
    assert.equal(dl?.errorCode, 'JNC_STEP_REJECTED');
    assert.match(dl?.reason[0] ?? '', /Rejected: lead has no email/);
    assert.equal(dl?.history.length, 1, 'no retry');
    assert.deepEqual(dl?.body, { name: 'no email' });
    assert.equal(sink.requests.length, 0);
  });

  it('schedules the next attempt as retryLater() asks', async (t) => {
    const { engine, send, settle } = await setup(t);
    const id = await send('later', {});
    await settle(id, 'done');
    const [first, second] = (await engine.store.getMessage(id))!.history;
    assert.equal(first?.errorCode, 'JNC_STEP_RETRY_LATER');
    assert.ok(second!.startedAt - (first!.startedAt + first!.durationMs) >= 290, 'waited the 300 ms asked for');
  });

  it('dead-letters a return value that is not a message, naming the module', async (t) => {
    const { engine, send, settle } = await setup(t);
    const id = await send('bad', {});
    await settle(id, 'dead');
    const dl = await engine.store.deadLetters.get(id);
    assert.equal(dl?.errorCode, 'JNC_CODE_RESULT_INVALID');
    assert.match(dl?.reason[0] ?? '', /bad-return\.ts returned a number; return the message, an array of messages, DROP, or nothing/);
    assert.equal(dl?.history.length, 1);
  });
});
