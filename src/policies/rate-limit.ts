/**
 * @module policies/rate-limit
 * The outbound rate limit of one connector: a token bucket that every worker of
 * the node shares (one bucket per connector object), and the connector's
 * answer to a 429 from the target.
 *
 * - **No token, no call.** The call fails fast with the paused
 *   JNC_CONN_RATE_LIMITED, whose `retryAfterMs` is the caller's turn: the
 *   message goes back to the queue until then and no attempt is spent.
 * - **Turns, not a stampede.** Callers turned away are given successive token
 *   times (the first the next token, the second the one after…), so a backlog
 *   comes back spread at the bucket's rate instead of all at the next token,
 *   where all but one would be turned away again. A turn is a hint, not a
 *   reservation: whoever comes first when a token is there takes it, and a
 *   turn nobody comes back for leaves its token in the bucket.
 * - **A 429 pauses the connector.** An answer 429 that the connector
 *   classifies `retry` empties the bucket and stops every call until the
 *   target's `Retry-After` (capped at `maxPauseMs`); without one, for 1 s,
 *   doubled on each 429 in a row. The call rejects with the paused
 *   JNC_CONN_THROTTLED instead of returning the answer, so the 429 costs no
 *   attempt and never makes a dead letter. A 429 the connector's `classify`
 *   calls `permanent` or `ok` is passed through untouched.
 *
 * Why a bucket of our own rather than `rate-limiter-flexible` (which the
 * inbound limit uses): its memory limiter counts fixed windows, so it lets up
 * to twice the rate through across a window edge, knows only when the window
 * ends rather than when the next token comes, and reads `Date.now()` instead of
 * the injected clock. The bucket below is a few lines, exact, and testable with
 * a manual clock.
 *
 * **Across nodes** (the PostgreSQL store), the limit must hold for all of them
 * together, and there the counter lives in the store: `limiters` (given by the
 * engine, from the store) makes a rate-limiter-flexible limiter of `burst`
 * calls per window of `burst / perSecond` seconds, which every node counts in.
 * The windows are cut from the clock (so the nodes' clocks should agree, as
 * NTP keeps them), back to back. Fixed windows let up to twice a window's calls
 * through across an edge, but hold the rate over any span of a few windows. A
 * call turned away waits for the next window plus a random part of one, so
 * that the nodes' backlog comes back spread over it. A 429's pause stays this node's own (each
 * node that is answered 429 pauses), and so does the bucket, which takes over
 * while the store does not answer.
 */
import { z } from 'zod';
import type { Clock } from '../core/clock.ts';
import { errors } from '../core/errors.ts';
import type { Classification, OutboundResponse, Policy, ResponseSnapshot } from '../core/call.ts';
import { parseRetryAfter } from './backoff.ts';
import type { RateLimiterFactory } from '../core/rate-limiter.ts';
import { RateLimiterRes } from 'rate-limiter-flexible';

export const rateLimitOptions = z
  .strictObject({
    perSecond: z.number().positive().max(1_000_000).describe('Calls per second in the long run: the rate the bucket refills at (0.5: one call every 2 s).'),
    burst: z
      .int()
      .min(1)
      .optional()
      .describe('Bucket size: calls that may leave at once after a quiet spell. Default: perSecond rounded up (at least 1).'),
  })
  .describe(
    'Outbound rate limit (token bucket), shared by every flow and worker that uses the connector, and on a PostgreSQL store by every node (counted in the store, in windows of burst/perSecond seconds). No token: the message waits, paused, for its turn; no attempt is spent. A 429 answer pauses every call until its Retry-After, and costs no attempt either.',
  );

export type RateLimitConfig = z.output<typeof rateLimitOptions>;

/** Shared windows use this many keys in turn (see rateLimitPolicy). */
const WINDOW_KEYS = 4;

/** A 429 without Retry-After pauses for this long, doubled on each 429 in a row. */
export const DEFAULT_THROTTLE_MS = 1000;

export interface RateLimitState {
  perSecond: number;
  burst: number;
  /** Tokens in the bucket now (fractional: it refills continuously). */
  tokens: number;
  /** ms since the epoch: no call before then (a 429's Retry-After). */
  pausedUntil?: number;
  /** True when every node on the store counts together (PostgreSQL); `tokens` is then this node's fallback bucket. */
  shared?: true;
}

export interface RateLimitDeps {
  /** The connector's reading of an answer: only a 429 classified `retry` pauses. */
  classify(res: OutboundResponse): Classification;
  /** The bounded copy of the 429 kept with the attempt. */
  snapshot(res: OutboundResponse): ResponseSnapshot;
  clock: Clock;
  /** Cap on one pause after a 429 (the connector's `retry.maxMs`). */
  maxPauseMs: number;
  /** Counters shared by every node (the store's); absent: the bucket of this process alone. */
  limiters?: RateLimiterFactory | undefined;
}

/**
 * A token bucket on an injected clock. `tokens` is what the bucket held at
 * `at`; it refills by `perSecond` per second, up to `burst`. While paused,
 * `at` lies in the future and nothing refills before it.
 */
export class TokenBucket {
  readonly perSecond: number;
  readonly burst: number;
  readonly #intervalMs: number;
  #tokens: number;
  #at: number;
  /** The last turn handed out to a caller turned away. */
  #lastTurn = -Infinity;

  constructor(perSecond: number, burst: number, now: number) {
    this.perSecond = perSecond;
    this.burst = burst;
    this.#intervalMs = 1000 / perSecond;
    this.#tokens = burst;
    this.#at = now;
  }

  /** Tokens at `now`; 0 while paused. */
  tokens(now: number): number {
    if (now < this.#at) return 0;
    return Math.min(this.burst, this.#tokens + ((now - this.#at) * this.perSecond) / 1000);
  }

  /** ms since the epoch until which nothing refills, if that is after `now`. */
  pausedUntil(now: number): number | undefined {
    return this.#at > now ? this.#at : undefined;
  }

  /**
   * Takes a token: returns 0 when one was taken, else the ms until this
   * caller's turn (at least 1).
   */
  take(now: number): number {
    const tokens = this.tokens(now);
    if (tokens >= 1) {
      this.#tokens = tokens - 1;
      this.#at = now;
      return 0;
    }
    // The next whole token comes at `at + (1 - tokens)·interval` (while paused `tokens` is what the pause left: 1).
    const base = Math.max(this.#at, now);
    const next = base + (1 - (now < this.#at ? this.#tokens : tokens)) * this.#intervalMs;
    const turn = Math.max(next, this.#lastTurn + this.#intervalMs);
    this.#lastTurn = turn;
    return Math.max(1, Math.ceil(turn - now));
  }

  /**
   * Stops every call until `until`, then lets them go at the steady rate: the
   * bucket holds one token then, not a burst, so the target that asked us to
   * slow down is not hit by everything that waited. Turns already handed out
   * are forgotten: they would fall inside the pause.
   */
  pause(until: number, now: number): void {
    if (until <= now || until <= this.#at) return;
    this.#tokens = 1;
    this.#at = until;
    this.#lastTurn = -Infinity;
  }
}

/** The policy's layer: the wrapper, and the bucket's state for the admin API. */
export interface RateLimitLayer {
  policy: Policy;
  state(): RateLimitState;
}

/** The bucket size when `burst` is not set. */
export function defaultBurst(perSecond: number): number {
  return Math.max(1, Math.ceil(perSecond));
}

export function rateLimitPolicy(connector: string, config: RateLimitConfig, deps: RateLimitDeps): RateLimitLayer {
  const { clock, classify, snapshot, maxPauseMs } = deps;
  const bucket = new TokenBucket(config.perSecond, config.burst ?? defaultBurst(config.perSecond), clock.now());
  const windowMs = (bucket.burst / bucket.perSecond) * 1000;
  const shared = deps.limiters?.({ keyPrefix: 'junction:out', points: bucket.burst, duration: windowMs / 1000 });

  /** 0 when the call may go, else ms until this caller's turn. */
  async function admit(now: number): Promise<number> {
    // A 429's pause is this node's; its turns come from the bucket.
    if (shared === undefined || bucket.pausedUntil(now) !== undefined) return bucket.take(now);
    // Windows on the clock, back to back, rather than each opened by its first call: no gap between
    // two windows waiting for that call. Four keys in turn, each window's row expired when its key comes back.
    const index = Math.floor(now / windowMs);
    try {
      await shared.consume(`${connector}:${index % WINDOW_KEYS}`);
      return 0;
    } catch (e) {
      if (e instanceof RateLimiterRes) return Math.max(1, Math.ceil((index + 1) * windowMs - now + Math.random() * windowMs));
      // The store did not answer: this node keeps to the limit by itself meanwhile.
      return bucket.take(now);
    }
  }
  // 429s in a row without Retry-After: each doubles the pause. A 429 to a call
  // sent before the last pause began (or at that instant) belongs to the wave that caused that pause
  // and does not double it again (many calls in flight all get one).
  let throttledInARow = 0;
  let pausedAt = -Infinity;

  const policy: Policy = function rateLimitLayer(next) {
    return async function rateLimit(req, ctx) {
      const sentAt = clock.now();
      const waitMs = await admit(sentAt);
      if (waitMs > 0) throw errors.CONN_RATE_LIMITED.create([connector, waitMs], { retryAfterMs: waitMs });
      const res = await next(req, ctx);
      if (res.status !== 429 || classify(res) !== 'retry') {
        if (sentAt > pausedAt) throttledInARow = 0;
        return res;
      }
      const now = clock.now();
      const asked = parseRetryAfter(res.headers['retry-after'], now);
      // Nothing gets a token at the instant a pause begins: a call sent then was in flight already.
      const sameWave = sentAt <= pausedAt;
      if (asked === undefined && !sameWave) throttledInARow++;
      if (asked !== undefined) throttledInARow = 0;
      const pauseMs = Math.min(maxPauseMs, asked ?? DEFAULT_THROTTLE_MS * 2 ** Math.min(Math.max(0, throttledInARow - 1), 30));
      if (!sameWave || asked !== undefined) {
        bucket.pause(now + pauseMs, now);
        pausedAt = now;
      }
      // This caller's turn comes with the others', after the pause.
      const retryAfterMs = bucket.take(now);
      throw errors.CONN_THROTTLED.create([connector, res.status, retryAfterMs], { status: 429, retryAfterMs, response: snapshot(res) });
    };
  };

  return {
    policy,
    state() {
      const now = clock.now();
      const pausedUntil = bucket.pausedUntil(now);
      const tokens = Math.floor(bucket.tokens(now) * 100) / 100;
      return {
        perSecond: bucket.perSecond,
        burst: bucket.burst,
        tokens,
        ...(pausedUntil === undefined ? {} : { pausedUntil }),
        ...(shared === undefined ? {} : { shared: true as const }),
      };
    },
  };
}
