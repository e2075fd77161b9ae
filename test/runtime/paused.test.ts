/**
 * @module test/runtime/paused
 * A paused outcome keeps its time: a step (or, soon, an open circuit or an
 * empty rate-limit bucket) that says "not now, in a minute" puts the message
 * back with that time and spends no attempt, and the worker does not claim it
 * again before then, instead of claiming and pausing it in a tight loop.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ManualClock } from '../helpers/clock.ts';
import { startTestEngine } from '../helpers/engine.ts';

const STEP = fileURLToPath(new URL('../fixtures/code-steps/paused.ts', import.meta.url));
const calls = (): number[] => (globalThis as { pausedStepCalls?: number[] }).pausedStepCalls ?? [];

it('waits until the pause ends, spending no attempt, and is not claimed before', async (t) => {
  const clock = new ManualClock();
  const engine = await startTestEngine(
    t,
    `
worker: { pollMs: 10 }
flows:
  orders:
    trigger: { http: { path: /orders } }
    retry: { maxAttempts: 1 }
    steps:
      - code: ${JSON.stringify(STEP)}
`,
    { clock },
  );
  const id = (await engine.post('/orders', { id: 1 })).json.id as string;
  await engine.until(async () => (await engine.store.getMessage(id))?.history.length === 1);
  const paused = await engine.store.getMessage(id);
  assert.equal(paused?.state, 'queued');
  assert.equal(paused?.runAt, clock.now() + 60_000, 'rescheduled at the end of the pause');
  assert.equal(paused?.attempts, 0, 'the attempt was given back: maxAttempts 1 is still whole');

  // Many polls later, a millisecond before the pause ends: not claimed again.
  clock.advance(59_999);
  for (let i = 0; i < 20; i++) {
    engine.worker.notify();
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.deepEqual(calls(), [1], 'the step ran once: no claim before runAt');

  clock.advance(1);
  engine.worker.notify();
  await engine.until(async () => (await engine.store.getMessage(id))?.state === 'done');
  assert.deepEqual(calls(), [1, 1], 'run again once the pause ended, as attempt 1 again (none was spent)');
});
