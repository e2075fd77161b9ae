/**
 * @module bench/lib/load
 * The load generator: a fixed number of POSTs at a fixed concurrency over an
 * undici Pool (keep-alive, no pipelining), with per-request timings, and the
 * percentiles and summaries the reports print.
 */
import { Pool } from 'undici';

export interface LoadOptions {
  /** Origin of the server, e.g. http://127.0.0.1:8080. */
  url: string;
  path: string;
  requests: number;
  /** Requests in flight at once; also the number of sockets. */
  concurrency: number;
  /** The body of request `i` (a JSON text). */
  body: (i: number) => string;
  /** Extra headers for request `i`. */
  headers?: (i: number) => Record<string, string>;
  /** The status every answer must have; others count as failures. */
  expectStatus: number;
  /** Offset added to `i`, so that warm-up and measured requests carry distinct ids. */
  firstIndex?: number;
  /** Per-request timeout; a request slower than this counts as a failure. */
  timeoutMs?: number;
  /** Called on every answer (or failure): `ok` when it had the expected status. */
  onAnswer?: (ok: boolean) => void;
}

export interface LoadResult {
  requests: number;
  /** Answers with another status, and requests that got no answer. */
  failures: number;
  /** A few failure descriptions, for the report. */
  failureSamples: string[];
  /** From the first request sent to the last answer read. */
  elapsedMs: number;
  /** performance.timeOrigin + performance.now() when the first request went out. */
  startedAtEpochMs: number;
  /** Sorted ascending, one per request that got an answer. */
  latenciesMs: Float64Array;
}

/** Sends `requests` POSTs with `concurrency` in flight; never throws for a failed request. */
export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  const pool = new Pool(opts.url, {
    connections: opts.concurrency,
    pipelining: 1,
    headersTimeout: opts.timeoutMs ?? 30_000,
    bodyTimeout: opts.timeoutMs ?? 30_000,
  });
  const first = opts.firstIndex ?? 0;
  const latencies = new Float64Array(opts.requests);
  let answered = 0;
  let failures = 0;
  const failureSamples: string[] = [];
  let next = 0;
  const fail = (what: string): void => {
    failures++;
    if (failureSamples.length < 5) failureSamples.push(what);
  };

  const lane = async (): Promise<void> => {
    while (next < opts.requests) {
      const i = first + next++;
      const t0 = performance.now();
      try {
        const res = await pool.request({
          path: opts.path,
          method: 'POST',
          headers: { 'content-type': 'application/json', ...opts.headers?.(i) },
          body: opts.body(i),
        });
        const text = await res.body.text();
        latencies[answered++] = performance.now() - t0;
        if (res.statusCode !== opts.expectStatus) fail(`#${i}: ${res.statusCode} ${text.slice(0, 200)}`);
        opts.onAnswer?.(res.statusCode === opts.expectStatus);
      } catch (e) {
        fail(`#${i}: ${(e as Error).message}`);
        opts.onAnswer?.(false);
      }
    }
  };

  const startedAtEpochMs = performance.timeOrigin + performance.now();
  const t0 = performance.now();
  try {
    await Promise.all(Array.from({ length: Math.min(opts.concurrency, opts.requests) }, lane));
  } finally {
    await pool.close();
  }
  const elapsedMs = performance.now() - t0;
  const sorted = latencies.subarray(0, answered).sort();
  return { requests: opts.requests, failures, failureSamples, elapsedMs, startedAtEpochMs, latenciesMs: sorted };
}

/** Nearest-rank percentile of an ascending array (p in 0..100); NaN when empty. */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Spread of repeated runs: (max − min) / median, as a percentage. */
export function spreadPercent(values: readonly number[]): number {
  if (values.length < 2) return 0;
  return ((Math.max(...values) - Math.min(...values)) / median(values)) * 100;
}

/** A small order, the shape the quickstart's map expects; `i` makes each one distinct. */
export function orderBody(i: number): string {
  return JSON.stringify({
    id: `o-${i}`,
    customer: { email: `Buyer.${i}@Example.COM`, name: 'Ada Lovelace' },
    items: [
      { sku: 'SKU-1', price: 12.5, qty: 2 },
      { sku: 'SKU-2', price: 3.25, qty: (i % 5) + 1 },
    ],
    placedAt: '2025-01-01T12:00:00Z',
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
