/**
 * @module observability/metrics
 * Prometheus metrics of one engine, in the text exposition format, for
 * `/metrics`. Counters and histograms follow the runtime's events (the hot
 * path does not know this module); queue depth, the oldest due message, dead
 * letters, circuit states and cache counts are read when scraped.
 *
 * Each instance owns its own prom-client `Registry`, never the global one:
 * several engines may share a process (tests do). Message and ingress events
 * carry the engine's worker id and are counted only for this engine's; a
 * connector's events carry only its name, so two engines in one process with a
 * connector of the same name count each other's calls (see {@link MetricsOptions.connectors}).
 *
 * Labels take few values: flow and connector names, status codes, outcomes,
 * configured consumer names and JNC_* codes; never an id, a path or an address.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Clock } from '../core/clock.ts';
import { subscribe } from './channels.ts';
import { LATENCY_BOUNDS_MS } from './live-stats.ts';

/** Seconds: Prometheus's default buckets, which LiveStats uses too, so a p95 from either agrees. */
const LATENCY_BUCKETS_S = LATENCY_BOUNDS_MS.map((ms) => ms / 1000);

/** `junction_circuit_state`'s values. */
export const CIRCUIT_STATE_VALUES: Readonly<Record<string, number>> = { closed: 0, halfOpen: 1, open: 2 };

/** A connector's live policies, as far as metrics show them. */
export interface ConnectorReading {
  /** Its circuit breaker's state (`closed`, `halfOpen`, `open`), when it has one. */
  circuit?: string | undefined;
  /** Its cache's counts since start, when it has one. */
  cache?: { hits: number; misses: number; revalidated: number; stale: number } | undefined;
}

/** What a scrape reads: the store's figures and the connectors' state. */
export interface MetricsReadings {
  /** Messages of a flow by state (`Store.stats`). */
  queue(flow: string): Promise<Record<string, number>>;
  /** Per flow, the earliest `runAt` among its due queued messages (`Store.oldestDue`). */
  oldestDue(): Promise<Record<string, number>>;
  connector(name: string): ConnectorReading | undefined;
}

export interface MetricsOptions {
  /** The engine's worker id: message and ingress events of other engines are not counted. */
  worker: string;
  flows: readonly string[];
  /** The engine's connectors: call events of other names are not counted. */
  connectors: readonly string[];
  clock: Clock;
  read: MetricsReadings;
  /** Adds the process's own metrics (CPU, memory, event loop, GC); default true. */
  processMetrics?: boolean;
}

/** Queue states shown as depth; done messages are history (bounded by retention), dead ones have their own gauge. */
const DEPTH_STATES = ['queued', 'running'] as const;

/** Codes of a call turned away by the connector's own rate limit (`bucket`) or paused by a 429 (`throttled`). */
const RATE_LIMIT_CODES: Readonly<Record<string, string>> = { JNC_CONN_RATE_LIMITED: 'bucket', JNC_CONN_THROTTLED: 'throttled' };

let processRegistry: Registry | undefined;

/**
 * The process's metrics, registered once per process on a registry of their
 * own: every engine's `/metrics` shows them, and prom-client's GC observer and
 * event-loop monitor, which cannot be stopped, are started only once.
 */
function processMetrics(): Registry {
  if (processRegistry === undefined) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

export class Metrics {
  /** This engine's metrics (the process's are added by {@link Metrics.render}). */
  readonly registry = new Registry();
  readonly #opts: MetricsOptions;
  readonly #unsubscribe: (() => void)[] = [];
  readonly #queue: Gauge;
  readonly #oldest: Gauge;
  readonly #dead: Gauge;
  readonly #storeUp: Gauge;
  readonly #circuit: Gauge;
  readonly #cache: Counter;

  constructor(opts: MetricsOptions) {
    this.#opts = opts;
    const registers = [this.registry];
    const counter = (name: string, help: string, labelNames: string[]): Counter => new Counter({ name, help, labelNames, registers });
    const gauge = (name: string, help: string, labelNames: string[] = []): Gauge => new Gauge({ name, help, labelNames, registers });
    const histogram = (name: string, help: string, labelNames: string[]): Histogram =>
      new Histogram({ name, help, labelNames, buckets: LATENCY_BUCKETS_S, registers });

    const ingress = counter('junction_ingress_requests_total', 'Requests answered by HTTP triggers, by flow, status and consumer.', ['flow', 'status', 'consumer']);
    const ingressLimited = counter('junction_ingress_rate_limited_total', 'Requests refused 429 by a trigger\'s rateLimit, by flow and consumer.', ['flow', 'consumer']);
    const enqueued = counter('junction_messages_enqueued_total', 'Messages made durable by triggers; duplicate="true": a dedupe key seen before, not stored again.', ['flow', 'duplicate']);
    const attempts = counter('junction_message_attempts_total', 'Attempts started by this engine\'s worker (paused ones included).', ['flow']);
    const settled = counter('junction_messages_settled_total', 'Attempt outcomes committed: ack, retry (an attempt spent), paused (none spent: circuit open, rate limit, shutdown), dead.', ['flow', 'outcome']);
    const processing = histogram('junction_message_processing_seconds', 'From claim to the committed outcome of one attempt.', ['flow', 'outcome']);
    const calls = histogram('junction_connector_call_duration_seconds', 'Connector calls (cache hits included), by the connector\'s classification of the answer; error: no answer (timeout, network, circuit open, rate limit).', ['connector', 'classification']);
    const callErrors = counter('junction_connector_call_errors_total', 'Connector calls that ended without an answer to classify, by JNC_* code.', ['connector', 'code']);
    const rateWaits = counter('junction_connector_rate_limit_waits_total', 'Calls sent back to wait by the connector\'s rate limit: bucket (no token) or throttled (the target answered 429).', ['connector', 'reason']);
    const rateWaitSeconds = counter('junction_connector_rate_limit_wait_seconds_total', 'The waits those calls were given, summed.', ['connector']);
    this.#queue = gauge('junction_queue_messages', 'Messages in the store by flow and state (queued, running); read at scrape, shared by every node on the store.', ['flow', 'state']);
    this.#oldest = gauge('junction_queue_oldest_age_seconds', 'How long the oldest due message of the flow has waited for a worker; 0 when none is due (a backoff or an open circuit is not waiting).', ['flow']);
    this.#dead = gauge('junction_dead_letters', 'Dead letters in the store by flow; read at scrape.', ['flow']);
    this.#storeUp = gauge('junction_store_up', '1 when the store answered this scrape\'s reads, else 0 (and the store\'s gauges are left out).');
    this.#circuit = gauge('junction_circuit_state', 'Circuit breaker state per connector: 0 closed, 1 half-open, 2 open.', ['connector']);
    this.#cache = counter('junction_cache_requests_total', 'GETs through a connector\'s cache: hit (fresh), miss (sent in full), revalidated (304), stale (served while the target failed).', ['connector', 'result']);

    const { worker } = opts;
    const connectors = new Set(opts.connectors);
    this.#unsubscribe.push(
      subscribe('ingress:response', (e) => {
        if (e.worker !== worker) return;
        ingress.inc({ flow: e.flow, status: String(e.status), consumer: e.consumer });
        if (e.code === 'JNC_RATE_LIMITED') ingressLimited.inc({ flow: e.flow, consumer: e.consumer });
      }),
      subscribe('message:enqueued', (e) => {
        if (e.worker === worker) enqueued.inc({ flow: e.flow, duplicate: String(e.duplicate) });
      }),
      subscribe('message:claimed', (e) => {
        if (e.worker === worker) attempts.inc({ flow: e.flow });
      }),
      subscribe('message:settled', (e) => {
        if (e.worker !== worker) return;
        const outcome = e.outcome === 'retry' && e.paused === true ? 'paused' : e.outcome;
        settled.inc({ flow: e.flow, outcome });
        processing.observe({ flow: e.flow, outcome }, e.durationMs / 1000);
      }),
      subscribe('call:end', (e) => {
        if (!connectors.has(e.connector)) return;
        calls.observe({ connector: e.connector, classification: e.classification ?? 'error' }, e.durationMs / 1000);
        if (e.code === undefined) return;
        callErrors.inc({ connector: e.connector, code: e.code });
        const reason = RATE_LIMIT_CODES[e.code];
        if (reason === undefined) return;
        rateWaits.inc({ connector: e.connector, reason });
        if (e.retryAfterMs !== undefined) rateWaitSeconds.inc({ connector: e.connector }, e.retryAfterMs / 1000);
      }),
    );
  }

  /** The exposition's media type (text format 0.0.4). */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Reads the store and the connectors, then renders every metric (the process's first) in the text format. */
  async render(): Promise<string> {
    await this.#readStore();
    this.#readConnectors();
    const own = await this.registry.metrics();
    return this.#opts.processMetrics === false ? own : `${await processMetrics().metrics()}\n${own}`;
  }

  /** Stops following events; the registry keeps what it counted. */
  close(): void {
    for (const u of this.#unsubscribe.splice(0)) u();
  }

  async #readStore(): Promise<void> {
    const { flows, read, clock } = this.#opts;
    let readings: [Record<string, number>[], Record<string, number>] | undefined;
    try {
      readings = await Promise.all([Promise.all(flows.map((f) => read.queue(f))), read.oldestDue()]);
    } catch {
      // A scrape must answer while the store is down: that is when it matters most. /readyz says why.
      readings = undefined;
    }
    // Reset and set with no await between: a scrape rendering meanwhile sees one whole reading, never half.
    this.#queue.reset();
    this.#oldest.reset();
    this.#dead.reset();
    this.#storeUp.set(readings === undefined ? 0 : 1);
    if (readings === undefined) return;
    const [stats, oldest] = readings;
    const now = clock.now();
    flows.forEach((flow, i) => {
      const counts = stats[i]!;
      for (const state of DEPTH_STATES) this.#queue.set({ flow, state }, counts[state] ?? 0);
      this.#dead.set({ flow }, counts.dead ?? 0);
      const due = oldest[flow];
      this.#oldest.set({ flow }, due === undefined ? 0 : Math.max(0, now - due) / 1000);
    });
  }

  #readConnectors(): void {
    this.#circuit.reset();
    this.#cache.reset();
    for (const name of this.#opts.connectors) {
      const reading = this.#opts.read.connector(name);
      const circuit = reading?.circuit === undefined ? undefined : CIRCUIT_STATE_VALUES[reading.circuit];
      if (circuit !== undefined) this.#circuit.set({ connector: name }, circuit);
      const cache = reading?.cache;
      if (cache === undefined) continue;
      this.#cache.inc({ connector: name, result: 'hit' }, cache.hits);
      this.#cache.inc({ connector: name, result: 'miss' }, cache.misses);
      this.#cache.inc({ connector: name, result: 'revalidated' }, cache.revalidated);
      this.#cache.inc({ connector: name, result: 'stale' }, cache.stale);
    }
  }
}
