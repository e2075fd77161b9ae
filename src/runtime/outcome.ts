/**
 * @module runtime/outcome
 * Decides what happens after one attempt. Pure: the worker writes the result to the
 * store, so a scheduled retry survives a crash (no in-memory retry loops).
 */
import { coerceError, errors, type JunctionError } from '../core/errors.ts';
import type { Outcome } from '../core/message.ts';
import type { RetryPolicy } from '../core/call.ts';
import { backoffMs } from '../policies/backoff.ts';

export interface DecideInput {
  /** What the flow threw, or null when it finished. */
  error: unknown;
  /** The attempt that just ran, from 1. */
  attempt: number;
  retry: RetryPolicy;
  now: number;
  random?: () => number;
}

export function decideOutcome({ error, attempt, retry, now, random = Math.random }: DecideInput): Outcome {
  if (error === null || error === undefined) return { kind: 'ack' };
  const e = coerceError(error);
  switch (e.family) {
    case 'paused':
      // Shutdown, an open circuit or an empty rate-limit bucket says nothing about the message: the attempt is
      // given back. The error says when to try again (the circuit's reopening, the next token); the message waits
      // until then instead of being claimed and paused again in a tight loop.
      return { kind: 'retry', at: now + Math.max(0, e.retryAfterMs ?? 0), error: e, spendAttempt: false, lastResponse: e.response };
    case 'transient':
    case 'store': {
      if (attempt >= retry.maxAttempts) return { kind: 'dead', error: exhausted(attempt, e), lastResponse: e.response };
      const waitMs = e.retryAfterMs === undefined ? backoffMs(attempt, retry, random) : Math.min(e.retryAfterMs, retry.maxMs);
      return { kind: 'retry', at: now + waitMs, error: e, spendAttempt: true, lastResponse: e.response };
    }
    case 'permanent':
    case 'input':
    case 'config':
      return { kind: 'dead', error: e, lastResponse: e.response };
  }
}

function exhausted(attempt: number, last: JunctionError): JunctionError {
  return errors.ATTEMPTS_EXHAUSTED.create([attempt, last.message], { cause: last, response: last.response });
}
