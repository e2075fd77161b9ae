/**
 * @module connectors/webhook-endpoint-state
 * Whether a webhook endpoint is healthy, failing (since when) or disabled.
 *
 * A failure (no answer, or an answer that is not a success) starts the
 * failing period unless one is under way; any success ends it. A failure that
 * comes when the endpoint has been failing for at least `disableAfterMs`, or
 * a 410 Gone, disables the endpoint: from then on every call fails at once,
 * until an operator enables it again. This is what the Standard Webhooks
 * guidance asks of a sender: stop hammering an endpoint that is gone, and say
 * so, instead of retrying it for ever.
 *
 * The state lives in the store (`ConnectorDeps.state`), so it survives a
 * restart and every process on the store sees it. A process keeps a copy and
 * reads the store again when its copy is older than {@link REFRESH_MS}, and
 * before every call it would refuse, so an endpoint enabled on another node is
 * sent to at once. Writes are queued one after the other, so a process never
 * overwrites its own newer state with an older one; two processes writing at
 * once: the last commit wins, which at worst delays a disabling by one failure.
 */
import type { Clock } from '../core/clock.ts';
import type { Json } from '../core/message.ts';
import type { Logger } from '../observability/logger.ts';
import type { KeyValue } from '../store/store.ts';

/** How long a process trusts its copy of a healthy endpoint's state before reading the store again. */
export const REFRESH_MS = 1000;

export interface EndpointRecord {
  /** When the current run of failures began (ms since the epoch), or null when the last call succeeded. */
  failingSince: number | null;
  /** When the endpoint was disabled, or null when it is enabled. */
  disabledAt: number | null;
  /** Why it was disabled, e.g. `failing for 3d` or `answering 410 Gone`. */
  reason: string | null;
}

const HEALTHY: EndpointRecord = Object.freeze({ failingSince: null, disabledAt: null, reason: null });

export interface EndpointStateOptions {
  /** The key under which the record is stored, e.g. `webhook:partner`. */
  key: string;
  connector: string;
  disableAfterMs: number;
  store?: KeyValue<Json> | undefined;
  clock: Clock;
  logger?: Logger | undefined;
}

export class EndpointState {
  readonly #opts: EndpointStateOptions;
  #record: EndpointRecord = HEALTHY;
  /** When {@link #record} was last read from the store; 0: never. */
  #readAt = 0;
  /** The store's reads and writes, one after the other. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(opts: EndpointStateOptions) {
    this.#opts = opts;
  }

  /** The last known state, for the admin API. */
  view(): Record<string, unknown> {
    const r = this.#record;
    return {
      disabled: r.disabledAt !== null,
      failingSince: iso(r.failingSince),
      disabledAt: iso(r.disabledAt),
      ...(r.reason === null ? {} : { reason: r.reason }),
      disableAfterMs: this.#opts.disableAfterMs,
    };
  }

  /** The current state: the process's copy, read again from the store when it may be stale or says disabled. */
  async current(): Promise<EndpointRecord> {
    const now = this.#opts.clock.now();
    if (this.#opts.store !== undefined && (this.#record.disabledAt !== null || now - this.#readAt >= REFRESH_MS)) {
      await this.#run(async () => {
        this.#record = parseRecord(await this.#opts.store!.get(this.#opts.key));
        this.#readAt = now;
      });
    }
    return this.#record;
  }

  /** A call succeeded: the failing period, if any, is over. */
  async succeeded(): Promise<void> {
    if (this.#record.failingSince === null || this.#record.disabledAt !== null) return;
    await this.#save({ ...HEALTHY });
  }

  /**
   * A call failed. Starts the failing period, or disables the endpoint when it
   * has been failing for `disableAfterMs` already, or at once when `gone`.
   * @param what the failure, for the log line, e.g. `answered 503`
   * @returns the record after the failure (disabled or not)
   */
  async failed(what: string, gone = false): Promise<EndpointRecord> {
    const now = this.#opts.clock.now();
    const r = this.#record;
    if (r.disabledAt !== null) return r;
    const since = r.failingSince ?? now;
    const failingMs = now - since;
    if (gone || failingMs >= this.#opts.disableAfterMs) {
      const reason = gone ? 'it answered 410 Gone' : `failing since ${new Date(since).toISOString()} (${describeMs(failingMs)}, disableAfter ${describeMs(this.#opts.disableAfterMs)})`;
      this.#opts.logger?.warn({ connector: this.#opts.connector, failingSince: new Date(since).toISOString(), last: what }, `connector ${this.#opts.connector}: webhook endpoint disabled, ${reason}; enable it with POST /admin/connectors/${this.#opts.connector}/enable`);
      await this.#save({ failingSince: since, disabledAt: now, reason });
    } else if (r.failingSince === null) {
      await this.#save({ failingSince: now, disabledAt: null, reason: null });
    }
    return this.#record;
  }

  /** Enables the endpoint again; its failing period starts afresh. */
  async enable(): Promise<void> {
    const was = this.#record;
    await this.#save({ ...HEALTHY });
    if (was.disabledAt !== null) this.#opts.logger?.info({ connector: this.#opts.connector }, `connector ${this.#opts.connector}: webhook endpoint enabled`);
  }

  async #save(record: EndpointRecord): Promise<void> {
    // The copy changes at once, so calls running meanwhile see it; the store follows, in order.
    this.#record = record;
    this.#readAt = this.#opts.clock.now();
    const store = this.#opts.store;
    if (store !== undefined) await this.#run(() => store.set(this.#opts.key, { ...record }));
  }

  #run(fn: () => Promise<unknown>): Promise<void> {
    const next = this.#queue.then(fn);
    // A failed read or write must not block the ones after it; the caller still sees its own failure.
    this.#queue = next.catch(() => {});
    return next.then(() => {});
  }
}

function parseRecord(v: Json | undefined): EndpointRecord {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return HEALTHY;
  const num = (x: Json | undefined): number | null => (typeof x === 'number' && Number.isFinite(x) ? x : null);
  return { failingSince: num(v.failingSince), disabledAt: num(v.disabledAt), reason: typeof v.reason === 'string' ? v.reason : null };
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

/** A span for people: `350ms`, `12s`, `4m 10s`, `3d 2h`. */
export function describeMs(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const units: [string, number][] = [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]];
  const parts: string[] = [];
  let rest = ms;
  for (const [unit, size] of units) {
    if (rest >= size && parts.length < 2) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    } else if (parts.length > 0) break;
  }
  return parts.join(' ');
}
