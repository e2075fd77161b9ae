/**
 * @module observability/live-stats
 * The last hour of this process's traffic, per flow and per connector, in
 * ten-second buckets: what the admin API's live rates, the dashboard's charts,
 * `junction status` and the alert rules read. It subscribes to the runtime's
 * events; the hot path does not know it exists.
 *
 * Figures are per process: on PostgreSQL each node shows its own traffic
 * (queue depth and dead letters, read from the store, are shared).
 */
import type { Clock } from '../core/clock.ts';
import { subscribe } from './channels.ts';

/** Bucket width, and how many are kept: one hour. */
export const BUCKET_MS = 10_000;
export const BUCKETS = 360;

/**
 * Upper bounds of the latency histogram, in ms: Prometheus's default buckets
 * (5 ms to 10 s), so that a p95 here and one from `/metrics` agree.
 */
export const LATENCY_BOUNDS_MS: readonly number[] = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000];

interface Bucket {
  /** Start of the bucket, ms since the epoch; a bucket from an older lap of the ring is stale. */
  start: number;
  ok: number;
  /** Retries that spent an attempt (a failure), and paused ones (circuit open, rate limited: not failures). */
  retry: number;
  paused: number;
  failed: number;
  /** Counts per LATENCY_BOUNDS_MS bucket, the last one for above 10 s. */
  latency: number[];
}

/** One flow's or connector's figures over a window. */
export interface WindowFigures {
  windowMs: number;
  /** Outcomes (flows) or calls (connectors). */
  total: number;
  ok: number;
  /** Flows: retries that spent an attempt; connectors: calls classified retry. */
  retry: number;
  /** Flows only: retries that spent none (circuit open, rate limit). */
  paused: number;
  /** Flows: dead letters; connectors: calls classified permanent (or that threw). */
  failed: number;
  /** Successes per second over the window. */
  rate: number;
  /** (retry + failed) / (ok + retry + failed); 0 with no traffic. Paused attempts are not errors. */
  errorRatio: number;
  /** Estimated from the histogram, in ms; undefined with no traffic. */
  p95Ms: number | undefined;
}

/** One point of a chart: a bucket of `stepMs` ending at `at`. */
export interface SeriesPoint {
  at: number;
  ok: number;
  errors: number;
  p95Ms: number | undefined;
}

class Ring {
  readonly #buckets: Bucket[] = [];

  constructor() {
    for (let i = 0; i < BUCKETS; i++) this.#buckets.push(emptyBucket(-1));
  }

  at(now: number): Bucket {
    const start = now - (now % BUCKET_MS);
    const i = Math.floor(start / BUCKET_MS) % BUCKETS;
    let b = this.#buckets[i]!;
    if (b.start !== start) {
      b = emptyBucket(start);
      this.#buckets[i] = b;
    }
    return b;
  }

  /** The buckets that overlap (now - windowMs, now], oldest first. */
  window(now: number, windowMs: number): Bucket[] {
    const n = Math.min(BUCKETS, Math.max(1, Math.ceil(windowMs / BUCKET_MS)));
    const current = now - (now % BUCKET_MS);
    const out: Bucket[] = [];
    for (let k = n - 1; k >= 0; k--) {
      const start = current - k * BUCKET_MS;
      const b = this.#buckets[Math.floor(start / BUCKET_MS) % BUCKETS]!;
      if (b.start === start) out.push(b);
    }
    return out;
  }
}

function emptyBucket(start: number): Bucket {
  return { start, ok: 0, retry: 0, paused: 0, failed: 0, latency: new Array<number>(LATENCY_BOUNDS_MS.length + 1).fill(0) };
}

function latencyIndex(ms: number): number {
  for (let i = 0; i < LATENCY_BOUNDS_MS.length; i++) if (ms <= LATENCY_BOUNDS_MS[i]!) return i;
  return LATENCY_BOUNDS_MS.length;
}

/** The 95th percentile of a merged histogram, interpolated inside its bucket (as Prometheus's histogram_quantile does). */
export function p95(latency: readonly number[]): number | undefined {
  const total = latency.reduce((a, b) => a + b, 0);
  if (total === 0) return undefined;
  const rank = 0.95 * total;
  let seen = 0;
  for (let i = 0; i < latency.length; i++) {
    const count = latency[i]!;
    if (seen + count >= rank) {
      // Above the last bound there is no upper edge: report the last bound, as Prometheus does.
      if (i === LATENCY_BOUNDS_MS.length) return LATENCY_BOUNDS_MS[i - 1]!;
      const lower = i === 0 ? 0 : LATENCY_BOUNDS_MS[i - 1]!;
      const upper = LATENCY_BOUNDS_MS[i]!;
      return lower + ((upper - lower) * (rank - seen)) / count;
    }
    seen += count;
  }
  return undefined;
}

function figures(buckets: readonly Bucket[], windowMs: number): WindowFigures {
  const latency = new Array<number>(LATENCY_BOUNDS_MS.length + 1).fill(0);
  let ok = 0;
  let retry = 0;
  let paused = 0;
  let failed = 0;
  for (const b of buckets) {
    ok += b.ok;
    retry += b.retry;
    paused += b.paused;
    failed += b.failed;
    for (let i = 0; i < latency.length; i++) latency[i]! += b.latency[i]!;
  }
  const counted = ok + retry + failed;
  return {
    windowMs,
    total: counted + paused,
    ok,
    retry,
    paused,
    failed,
    rate: ok / (windowMs / 1000),
    errorRatio: counted === 0 ? 0 : (retry + failed) / counted,
    p95Ms: p95(latency),
  };
}

export interface LiveStatsOptions {
  clock: Clock;
  /** Counts only the settled events of this worker (an engine's `worker.id`): several engines may share a process. */
  worker?: string;
}

export class LiveStats {
  readonly #clock: Clock;
  readonly #flows = new Map<string, Ring>();
  readonly #connectors = new Map<string, Ring>();
  readonly #unsubscribe: (() => void)[] = [];

  constructor(opts: LiveStatsOptions) {
    this.#clock = opts.clock;
    this.#unsubscribe.push(
      subscribe('message:settled', (e) => {
        if (opts.worker !== undefined && e.worker !== opts.worker) return;
        const b = ring(this.#flows, e.flow).at(this.#clock.now());
        if (e.outcome === 'ack') b.ok++;
        else if (e.outcome === 'dead') b.failed++;
        else if (e.paused === true) b.paused++;
        else b.retry++;
        b.latency[latencyIndex(e.durationMs)]!++;
      }),
      subscribe('call:end', (e) => {
        const b = ring(this.#connectors, e.connector).at(this.#clock.now());
        if (e.classification === 'ok') b.ok++;
        else if (e.classification === 'retry') b.retry++;
        else b.failed++;
        b.latency[latencyIndex(e.durationMs)]!++;
      }),
    );
  }

  /** A flow's figures over the last `windowMs` (default one minute). */
  flow(name: string, windowMs = 60_000): WindowFigures {
    return this.#figures(this.#flows, name, windowMs);
  }

  /** A connector's calls over the last `windowMs` (default one minute). */
  connector(name: string, windowMs = 60_000): WindowFigures {
    return this.#figures(this.#connectors, name, windowMs);
  }

  /** A chart's points: the last `spanMs` (at most an hour) in steps of `stepMs` (a multiple of ten seconds), oldest first. */
  series(kind: 'flow' | 'connector', name: string, spanMs = 3_600_000, stepMs = 60_000): SeriesPoint[] {
    const step = Math.max(BUCKET_MS, stepMs - (stepMs % BUCKET_MS));
    const points = Math.max(1, Math.floor(Math.min(spanMs, BUCKETS * BUCKET_MS) / step));
    const r = (kind === 'flow' ? this.#flows : this.#connectors).get(name);
    const now = this.#clock.now();
    const end = now - (now % BUCKET_MS) + BUCKET_MS;
    const out: SeriesPoint[] = [];
    for (let k = points - 1; k >= 0; k--) {
      const at = end - k * step;
      const f = figures(r ? r.window(at - 1, step) : [], step);
      out.push({ at, ok: f.ok, errors: f.retry + f.failed, p95Ms: f.p95Ms });
    }
    return out;
  }

  close(): void {
    for (const u of this.#unsubscribe.splice(0)) u();
  }

  #figures(rings: Map<string, Ring>, name: string, windowMs: number): WindowFigures {
    const r = rings.get(name);
    return figures(r ? r.window(this.#clock.now(), windowMs) : [], windowMs);
  }
}

function ring(rings: Map<string, Ring>, name: string): Ring {
  let r = rings.get(name);
  if (r === undefined) {
    r = new Ring();
    rings.set(name, r);
  }
  return r;
}
