/**
 * @module test/helpers/step
 * What a step unit test hands a step, as the runtime would: the deps its factory
 * gets once, the context each run gets, and a message. A test overrides only
 * what its step reads.
 *
 * ```ts
 * const step = await mapStep.create(mapOptions.parse(options), stepDeps({ index: 1 }));
 * const out = await step(message({ id: 'A-1' }, { headers: { 'x-shop': 'north' } }), stepContext());
 * ```
 */
import assert from 'node:assert/strict';
import type { Clock } from '../../src/core/clock.ts';
import type { Json, Message } from '../../src/core/message.ts';
import { silentLogger } from '../../src/observability/logger.ts';
import type { StepContext, StepDeps } from '../../src/steps/step.ts';
import { ManualClock } from './clock.ts';

/** Step 0 of flow `orders`, relative paths from `.`; asking for a connector fails the test unless one is given. */
export function stepDeps(overrides: Partial<StepDeps> = {}): StepDeps {
  return {
    flow: 'orders',
    index: 0,
    baseDir: '.',
    connector: (name) => assert.fail(`the step asked for connector ${name}; this test gives it none`),
    ...overrides,
  };
}

/** A context that is never aborted, logs nothing, and tells time by `clock` (a fresh ManualClock unless given). */
export function stepContext(clock: Clock = new ManualClock()): StepContext {
  return { signal: new AbortController().signal, logger: silentLogger, clock };
}

/** Message m-1 of flow `orders`, first attempt, key k-1, no headers, no meta: each field can be overridden. */
export function message(body: Json, overrides: Partial<Message> = {}): Message {
  return { id: 'm-1', flow: 'orders', attempt: 1, idempotencyKey: 'k-1', body, headers: {}, meta: {}, ...overrides };
}
