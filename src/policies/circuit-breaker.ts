/**
 * @module policies/circuit-breaker
 * The circuit breaker of one connector (slot `circuit`): when the target keeps
 * failing, stop sending to it for a while, so that its messages wait (paused, no
 * attempt spent) instead of burning their attempts against a target that is down,
 * and the target gets room to recover.
 *
 * States (cockatiel's and resilience4j's, told in our words):
 *
 * - `closed`: calls go through; their outcomes are counted in a sliding window.
 *   It opens when, within `windowMs`, at least `minRequests` calls ended and the
 *   share of failures reached `failureRatio`; or, when `consecutiveFailures` is set,
 *   after that many failures in a row.
 * - `open`: every call fails at once with a paused JNC_CIRCUIT_OPEN whose
 *   `retryAfterMs` is the time left until half-open; nothing below runs.
 * - `halfOpen`: after `openMs`, exactly one call (the probe) goes through; others
 *   fail fast meanwhile. The probe's success closes the circuit, its failure opens
 *   it again for another `openMs`.
 *
 * Only failures that say something about the target count: an answer the
 * connector classifies `retry` (408, 5xx, or what its `classify` says), a timeout
 * or a network error. Any other answer (a 400 is the caller's fault) shows the
 * target is up, and counts as a success. A call that ends for a reason that is
 * neither (shutdown, a paused policy below, a refused token request) is not
 * counted at all, nor is a 429 (the rate limit's business); a probe that ends so
 * gives its turn to the next caller.
 *
 * The window is kept in {@link BUCKETS} buckets of `windowMs / BUCKETS`, so memory
 * stays flat whatever the rate; the window slides a bucket at a time.
 *
 * State lives in this process: on several nodes each keeps its own circuit, which
 * is what a circuit is for (it protects this node's workers and the target).
 */
import { z } from 'zod';
import type { Clock } from '../core/clock.ts';
import type { Classification, OutboundResponse, Policy } from '../core/call.ts';
import { errors, isJunctionError, type JunctionError } from '../core/errors.ts';
import { publish } from '../observability/channels.ts';

export const circuitBreakerOptions = z
  .strictObject({
    failureRatio: z.number().gt(0).max(1).default(0.5).describe('Opens when this share of the calls in the window failed (0 < ratio ≤ 1), once minRequests calls ended in it.'),
    minRequests: z.int().min(1).default(20).describe('Fewest calls in the window before the ratio may open the circuit: one early failure is not a trend.'),
    windowMs: z.int().min(10).default(10_000).describe('Length of the sliding window the ratio is measured over.'),
    openMs: z.int().min(1).default(30_000).describe('How long the circuit stays open before one probe is let through (half-open).'),
    consecutiveFailures: z.int().min(1).optional().describe('Also opens after this many failures in a row, whatever the window says. Absent: the ratio alone decides.'),
  })
  .describe('Circuit breaker: while the target keeps failing, its messages wait (paused, no attempt spent) and no request reaches it; after openMs one probe decides. Absent: no breaker.');

export type CircuitBreakerOptions = z.output<typeof circuitBreakerOptions>;

export const CIRCUIT_STATES = ['closed', 'open', 'halfOpen'] as const;
export type CircuitStateName = (typeof CIRCUIT_STATES)[number];

/** What `GET /admin/connectors` shows under `state.policies.circuit`. */
export interface CircuitState {
  state: CircuitStateName;
  /** Failures counted in the current window (closed), or 0. */
  failures: number;
  /** Calls counted in the current window (closed), or 0. */
  requests: number;
  /** Failures in a row so far. */
  consecutiveFailures: number;
  /** When it last opened (ISO 8601), while open or half-open. */
  openedAt?: string;
  /** When it half-opens (ISO 8601), while open. */
  halfOpenAt?: string;
}

/** What the breaker needs besides its options. */
export interface CircuitBreakerDeps {
  clock: Clock;
  /** The connector's reading of an answer: `retry` counts as a failure. */
  classify(res: OutboundResponse): Classification;
  /**
   * How long a probe may take at most (the connector's timeoutMs): callers turned
   * away while it is in flight are told to come back then, when it has surely ended.
   */
  probeTimeoutMs: number;
  /** Told of every change of state: a log line. */
  onChange?(change: CircuitChange): void;
}

export interface CircuitChange {
  connector: string;
  from: CircuitStateName;
  to: CircuitStateName;
  /** Why, in words, for the log line. */
  reason: string;
  failures: number;
  requests: number;
  /** While open: when it half-opens, ms since the epoch. */
  halfOpenAt?: number;
}

/** The number of buckets the window is cut into. */
export const BUCKETS = 10;

interface Bucket {
  /** Start of the bucket's time slice, ms since the epoch. */
  start: number;
  requests: number;
  failures: number;
}

/** How a call ended, for the breaker. */
type Verdict = 'success' | 'failure' | 'ignore';

/**
 * The breaker's state machine, apart from the call wrapping so that it is tested
 * with a clock and no calls. {@link enter} asks for a turn, {@link record} reports
 * how the turn ended.
 */
export class CircuitBreaker {
  readonly #connector: string;
  readonly #opts: CircuitBreakerOptions;
  readonly #deps: CircuitBreakerDeps;
  readonly #bucketMs: number;
  #state: CircuitStateName = 'closed';
  #buckets: Bucket[] = [];
  #consecutive = 0;
  #openedAt = 0;
  #halfOpenAt = 0;
  #probeSince: number | undefined;
  /** Bumped on every change of state: a call that started in an earlier state is not counted in this one. */
  #generation = 0;

  constructor(connector: string, opts: CircuitBreakerOptions, deps: CircuitBreakerDeps) {
    this.#connector = connector;
    this.#opts = opts;
    this.#deps = deps;
    this.#bucketMs = Math.max(1, Math.floor(opts.windowMs / BUCKETS));
  }

  /**
   * Called before a call goes out. Returns a ticket to hand to {@link record}, or
   * throws the paused JNC_CIRCUIT_OPEN when the call must not go out.
   */
  enter(): Ticket {
    const now = this.#deps.clock.now();
    if (this.#state === 'open') {
      if (now < this.#halfOpenAt) throw this.#refusal(this.#halfOpenAt - now, 'open');
      this.#change('halfOpen', `${this.#opts.openMs}ms passed; one probe goes out`, now);
    }
    if (this.#state === 'halfOpen') {
      if (this.#probeSince !== undefined) {
        // The probe ends within its timeout; whoever waits comes back once it surely has.
        throw this.#refusal(Math.max(1, this.#probeSince + this.#deps.probeTimeoutMs - now), 'half-open, its probe in flight');
      }
      this.#probeSince = now;
      return { generation: this.#generation, probe: true };
    }
    return { generation: this.#generation, probe: false };
  }

  /** Reports how a call that {@link enter} let through ended. */
  record(ticket: Ticket, verdict: Verdict): void {
    if (ticket.generation !== this.#generation) return;
    const now = this.#deps.clock.now();
    if (ticket.probe) {
      this.#probeSince = undefined;
      if (verdict === 'success') this.#change('closed', 'the probe succeeded', now);
      else if (verdict === 'failure') this.#open('the probe failed', now);
      // 'ignore': the probe told nothing; the next caller probes.
      return;
    }
    if (this.#state !== 'closed' || verdict === 'ignore') return;
    const bucket = this.#bucketAt(now);
    bucket.requests++;
    if (verdict === 'success') {
      this.#consecutive = 0;
      return;
    }
    bucket.failures++;
    this.#consecutive++;
    const { failures, requests } = this.#counts(now);
    const limit = this.#opts.consecutiveFailures;
    if (limit !== undefined && this.#consecutive >= limit) {
      this.#open(`${this.#consecutive} failures in a row`, now);
    } else if (requests >= this.#opts.minRequests && failures / requests >= this.#opts.failureRatio) {
      this.#open(`${failures} of ${requests} calls failed in ${this.#opts.windowMs}ms (ratio ${this.#opts.failureRatio})`, now);
    }
  }

  /** Live state, for the admin API. An open circuit whose time is up shows as half-open: the next call probes. */
  state(): CircuitState {
    const now = this.#deps.clock.now();
    const { failures, requests } = this.#state === 'closed' ? this.#counts(now) : { failures: 0, requests: 0 };
    const state: CircuitStateName = this.#state === 'open' && now >= this.#halfOpenAt ? 'halfOpen' : this.#state;
    const out: CircuitState = { state, failures, requests, consecutiveFailures: this.#consecutive };
    if (this.#state !== 'closed') out.openedAt = new Date(this.#openedAt).toISOString();
    if (this.#state === 'open') out.halfOpenAt = new Date(this.#halfOpenAt).toISOString();
    return out;
  }

  #open(reason: string, now: number): void {
    const counts = this.#counts(now);
    this.#openedAt = now;
    this.#halfOpenAt = now + this.#opts.openMs;
    this.#change('open', reason, now, counts);
  }

  #change(to: CircuitStateName, reason: string, now: number, counts = this.#counts(now)): void {
    const from = this.#state;
    this.#state = to;
    this.#generation++;
    this.#probeSince = undefined;
    // Each closed period starts from a clean window: what failed before the outage is history.
    this.#buckets = [];
    if (to === 'closed') this.#consecutive = 0;
    publish('circuit:change', { connector: this.#connector, from, to });
    this.#deps.onChange?.({
      connector: this.#connector,
      from,
      to,
      reason,
      failures: counts.failures,
      requests: counts.requests,
      ...(to === 'open' ? { halfOpenAt: this.#halfOpenAt } : {}),
    });
  }

  #refusal(retryAfterMs: number, why: string): JunctionError {
    return errors.CIRCUIT_OPEN.create([this.#connector, why, retryAfterMs], { retryAfterMs });
  }

  /** The bucket `now` falls in, made (and old ones dropped) as needed. */
  #bucketAt(now: number): Bucket {
    const start = now - (now % this.#bucketMs);
    const last = this.#buckets.at(-1);
    if (last !== undefined && last.start === start) return last;
    this.#prune(now);
    const bucket = { start, requests: 0, failures: 0 };
    this.#buckets.push(bucket);
    return bucket;
  }

  #prune(now: number): void {
    const from = now - this.#opts.windowMs;
    while (this.#buckets.length > 0 && (this.#buckets[0] as Bucket).start + this.#bucketMs <= from) this.#buckets.shift();
  }

  #counts(now: number): { failures: number; requests: number } {
    this.#prune(now);
    let failures = 0;
    let requests = 0;
    for (const b of this.#buckets) {
      failures += b.failures;
      requests += b.requests;
    }
    return { failures, requests };
  }
}

/** A turn given by {@link CircuitBreaker.enter}. */
export interface Ticket {
  readonly generation: number;
  /** True for the one call let through while half-open. */
  readonly probe: boolean;
}

/** A failure of the target, as opposed to one of the caller or of this process. */
function verdictOfError(e: unknown): Verdict {
  if (!isJunctionError(e)) return 'ignore';
  // Timeouts and network errors; a paused error (shutdown, rate limit) or a refused token says nothing of the target.
  return e.code === 'JNC_CONN_TIMEOUT' || e.code === 'JNC_CONN_NETWORK' ? 'failure' : 'ignore';
}

/** A `retry` answer is the target failing; any other answer shows it up. */
function verdictOfResponse(res: OutboundResponse, classify: (res: OutboundResponse) => Classification): Verdict {
  // A 429 is the target pacing us, not failing: the rate limit policy slows down for it, honouring its
  // Retry-After; opening the circuit would stop every call for openMs instead.
  if (res.status === 429) return 'ignore';
  return classify(res) === 'retry' ? 'failure' : 'success';
}

/**
 * The policy layer: the breaker around the calls below it, and its live state.
 * @param deps.classify the connector's classification, so that a 503 counts and a 400 does not
 */
export function circuitBreakerLayer(connector: string, opts: CircuitBreakerOptions, deps: CircuitBreakerDeps): { policy: Policy; state(): CircuitState; breaker: CircuitBreaker } {
  const breaker = new CircuitBreaker(connector, opts, deps);
  const policy: Policy = function circuitLayer(next) {
    return async function circuit(req, ctx) {
      const ticket = breaker.enter();
      let res: OutboundResponse;
      try {
        res = await next(req, ctx);
      } catch (e) {
        breaker.record(ticket, ctx.signal.aborted ? 'ignore' : verdictOfError(e));
        throw e;
      }
      breaker.record(ticket, verdictOfResponse(res, deps.classify));
      return res;
    };
  };
  return { policy, state: () => breaker.state(), breaker };
}
