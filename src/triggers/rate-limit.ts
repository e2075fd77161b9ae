/**
 * @module triggers/rate-limit
 * How many requests each caller may send to one HTTP trigger. Every consumer
 * (an API key's consumer name, a JWT's subject; an anonymous caller's IP) has
 * an allowance of its own, so a noisy one cannot spend a quiet one's.
 *
 * The answers tell callers where they stand with the IETF draft fields
 * (draft-ietf-httpapi-ratelimit-headers-11, Structured Fields syntax):
 *
 *     RateLimit-Policy: "per-consumer";q=100;w=1
 *     RateLimit: "per-consumer";r=42;t=1
 *
 * `q` the allowance per window, `w` the window in whole seconds (left out when
 * the window is not a whole number of seconds: the draft has no sub-second
 * windows), `r` what is left of it, `t` seconds until it is whole again. A 429
 * adds `Retry-After` with the same number of seconds as `t`.
 */
import { BurstyRateLimiter, RateLimiterRes } from 'rate-limiter-flexible';
import { z } from 'zod';
import type { Caller } from '../auth/inbound/inbound.ts';
import { duration, formatDuration } from '../core/duration.ts';
import { errors } from '../core/errors.ts';
import { memoryLimiters, type RateLimiterFactory } from '../core/rate-limiter.ts';

/** The policy's name in the RateLimit fields and in a 429's `violated-policies`. */
export const POLICY = 'per-consumer';

/** Retry-After of a request refused because the limiter's store did not answer. */
const UNAVAILABLE_RETRY_MS = 1000;

/** A burst reserve refills over this many windows, so it absorbs spikes without raising the steady rate much. */
const BURST_WINDOWS = 10;

export const inboundRateLimitOptions = z
  .strictObject({
    perKey: z.int().min(1).describe('Requests each consumer may send per window.'),
    per: duration.describe('The window: a number of milliseconds, or 500ms, 1s, 1m, 1h, 1d.'),
    burst: z
      .int()
      .min(1)
      .optional()
      .describe(`Extra requests a consumer may send once its perKey is spent, from a reserve that refills every ${BURST_WINDOWS} windows.`),
  })
  .describe(
    'Requests each consumer may send: counted per API key consumer or JWT subject (an anonymous caller: per IP), on a PostgreSQL store across every node. Over it: 429 with Retry-After; every answer carries RateLimit and RateLimit-Policy.',
  );

export type InboundRateLimitConfig = z.output<typeof inboundRateLimitOptions>;

export interface InboundRateLimiter {
  /**
   * Counts one request by `caller`. Resolves to the headers its answer
   * carries; throws JNC_RATE_LIMITED (429, with those headers and Retry-After)
   * when the caller's allowance is spent.
   */
  take(caller: Caller, ip: string): Promise<Record<string, string>>;
}

/**
 * One limiter per trigger, its counters made by `limiters`: this process's
 * memory by default; with many nodes on PostgreSQL the store's, so that a
 * consumer's allowance holds across every node it reaches.
 */
export function createInboundRateLimiter(flow: string, config: InboundRateLimitConfig, limiters: RateLimiterFactory = memoryLimiters): InboundRateLimiter {
  const seconds = config.per / 1000;
  const steady = limiters({ keyPrefix: `junction:${flow}`, points: config.perKey, duration: seconds });
  const limiter =
    config.burst === undefined
      ? steady
      : new BurstyRateLimiter(steady, limiters({ keyPrefix: `junction:${flow}:burst`, points: config.burst, duration: seconds * BURST_WINDOWS }));
  const policy = `"${POLICY}";q=${config.perKey}${Number.isInteger(seconds) ? `;w=${seconds}` : ''}`;
  const headers = (res: RateLimiterRes): Record<string, string> => ({
    'ratelimit-policy': policy,
    ratelimit: `"${POLICY}";r=${res.remainingPoints};t=${secondsUntil(res)}`,
  });

  return {
    async take(caller, ip) {
      // Prefixed so that no consumer can be named like an address and share its allowance.
      const key = caller.via === 'none' ? `ip:${ip}` : `consumer:${caller.consumer}`;
      try {
        return headers(await limiter.consume(key));
      } catch (e) {
        // Anything but a RateLimiterRes is the limiter's own failure (the store's counters cannot be reached):
        // not the caller's, and nothing could be stored now either; come back shortly.
        if (!(e instanceof RateLimiterRes)) throw errors.UNAVAILABLE.create(['rate limit counters unreachable'], { cause: e, retryAfterMs: UNAVAILABLE_RETRY_MS });
        const retryS = secondsUntil(e);
        const who = caller.via === 'none' ? `${ip} (anonymous)` : caller.consumer;
        throw errors.RATE_LIMITED.create([who, config.perKey, formatDuration(config.per), retryS], {
          retryAfterMs: retryS * 1000,
          headers: headers(e),
          details: { 'violated-policies': [POLICY] },
        });
      }
    },
  };
}

/** Whole seconds until the window resets: rounded up, so a caller that waits that long finds it reset. */
function secondsUntil(res: RateLimiterRes): number {
  return Math.max(1, Math.ceil(res.msBeforeNext / 1000));
}
