/**
 * @module policies/backoff
 * When to try again. Pure functions: the runtime writes the result to the store
 * as the message's `runAt`, so a retry survives a restart.
 */
import type { RetryPolicy } from '../core/call.ts';

/**
 * Full jitter (AWS Architecture Blog, "Exponential Backoff and Jitter"): a uniform
 * wait in [0, min(maxMs, baseMs · 2^(attempt-1))]. Spreads the retries of many
 * messages that failed together instead of sending them back in waves.
 * @param attempt the attempt that just failed, from 1
 * @param random a number in [0, 1); injected for tests
 */
export function backoffMs(attempt: number, policy: Pick<RetryPolicy, 'baseMs' | 'maxMs'>, random: () => number = Math.random): number {
  const exp = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(attempt - 1, 52));
  return Math.floor(random() * exp);
}

/**
 * Reads `Retry-After` (RFC 9110 §10.2.3): delay-seconds or an HTTP date.
 * Returns milliseconds from `now`, or undefined when absent or unreadable.
 */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  // Date.parse takes "1.5" or "-1" for dates in 2001: only read what looks like one
  // of the three HTTP-date forms (a month name and hh:mm:ss); the rest is garbage.
  if (!/[a-z]{3}/i.test(v) || !/\d{2}:\d{2}:\d{2}/.test(v)) return undefined;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}
