/**
 * @module observability/channels
 * The runtime's events, published on `node:diagnostics_channel` (as undici
 * does): metrics, tracing, alerts, the dashboard and tests subscribe; the
 * runtime knows none of them. A channel nobody listens to costs one
 * `hasSubscribers` check, and a publisher does no timing for it.
 *
 * Channel names are `junction:<noun>:<verb>` and never change once shipped.
 */
import diagnostics from 'node:diagnostics_channel';
import type { Classification } from '../core/call.ts';
import type { TraceScope } from '../core/trace-context.ts';

/** What each event carries, by channel name (without the `junction:` prefix). */
export interface JunctionEvents {
  /** A trigger's batch is durable: one event per message, duplicates included. `worker`: the engine's worker. */
  'message:enqueued': { worker: string; flow: string; id: string; duplicate: boolean };
  /** A worker took the message under a lease. */
  'message:claimed': { worker: string; flow: string; id: string; attempt: number };
  /**
   * The outcome of one attempt is committed. `outcome` is `ack`, `retry` or
   * `dead`; `paused` is true for a retry that spent no attempt (circuit open,
   * rate limited, shutdown). `dropped` names the step that dropped it (a filter).
   */
  'message:settled': {
    /** The worker that ran it (an engine's `worker.id`): several engines may share a process. */
    worker: string;
    flow: string;
    id: string;
    attempt: number;
    outcome: 'ack' | 'retry' | 'dead';
    /** A retry's next attempt, in ms since the epoch. */
    at?: number | undefined;
    code?: string | undefined;
    paused?: boolean | undefined;
    dropped?: string | undefined;
    /** From claim to commit. */
    durationMs: number;
  };
  /**
   * A connector call leaves (cache hits included: they end with `cached`).
   * `headers` are the request's own: a subscriber may add to them (`traceparent`),
   * the way undici's `undici:request:create` lets it, and the call sends them.
   */
  'call:start': {
    connector: string;
    method: string;
    path: string;
    /** The URL the call is for (the connector's base joined with `path`), query included: scrub it before showing it. */
    url?: string | undefined;
    headers?: Record<string, string> | undefined;
    /** The attempt the call is part of, when the caller passed one. */
    scope?: TraceScope | undefined;
  };
  /** Its answer, or the error that took its place. */
  'call:end': {
    connector: string;
    method: string;
    path: string;
    status?: number | undefined;
    classification?: Classification | undefined;
    code?: string | undefined;
    /** A paused error's wait (an open circuit, the rate limit's next token, a 429's Retry-After). */
    retryAfterMs?: number | undefined;
    durationMs: number;
    /** This call's `call:start` event, when one was published: the key for a subscriber that pairs them (a span). */
    start?: JunctionEvents['call:start'] | undefined;
  };
  /**
   * An HTTP trigger answered a request. `worker`: the engine's worker id (several
   * engines may share a process). `consumer` is a metric label: a configured
   * consumer name, `anonymous` (a trigger without auth), `jwt` (a token's subject
   * is not a name Junction knows), or `unauthenticated` (refused before the
   * caller was named); never an IP, a key or a subject. `code`: the JNC_* code
   * of a refusal (JNC_RATE_LIMITED for a 429 of the trigger's rateLimit).
   */
  'ingress:response': { worker: string; flow: string; status: number; consumer: string; code?: string | undefined };
  /**
   * An HTTP trigger took a request in. `traceparent` is the caller's, when valid;
   * a subscriber may replace it with its own (the ingress span's), and that is
   * the trace context stored with the message. `worker`: the engine's worker.
   */
  'ingress:start': { worker: string; flow: string; method: string; route: string; traceparent?: string | undefined };
  /** How that request was answered: this ingress's `ingress:start` event, the status, and the message it was stored as. */
  'ingress:end': { start: JunctionEvents['ingress:start']; status: number; messageId?: string | undefined };
  /**
   * An attempt at a message begins. `scope` is this attempt's: step and call
   * events of the attempt carry the same object. `tracestate` is the message's
   * header of that name, when it came with one.
   */
  'attempt:start': {
    worker: string;
    flow: string;
    id: string;
    attempt: number;
    traceparent?: string | undefined;
    tracestate?: string | undefined;
    scope: TraceScope;
  };
  /** Its outcome is decided (it may still be in the middle of being written). */
  'attempt:end': { scope: TraceScope; outcome: 'ack' | 'retry' | 'dead'; code?: string | undefined; paused?: boolean | undefined };
  /**
   * A trigger that starts work by itself runs once (a poll with its pages, a
   * schedule's firing). `scope` is the run's, carried by its connector calls; a
   * subscriber may set `traceparent`, which the run's messages are stored with.
   */
  'trigger:start': { worker: string; flow: string; type: string; scope: TraceScope; traceparent?: string | undefined };
  /** The run is over: `records` read and handed to the store, or the error code that ended it. */
  'trigger:end': { scope: TraceScope; records: number; code?: string | undefined };
  /** A step of an attempt begins; `step` is `type#index`. */
  'step:start': { scope: TraceScope; flow: string; step: string };
  /** It returned (`code` absent) or threw. */
  'step:end': { scope: TraceScope; flow: string; step: string; code?: string | undefined };
  /** A circuit breaker changed state. */
  'circuit:change': { connector: string; from: string; to: string };
}

export type EventName = keyof JunctionEvents;

const channels = new Map<EventName, diagnostics.Channel>();

function channelOf(name: EventName): diagnostics.Channel {
  let ch = channels.get(name);
  if (ch === undefined) {
    ch = diagnostics.channel(`junction:${name}`);
    channels.set(name, ch);
  }
  return ch;
}

/** True when someone listens: check it before doing work (timing, building the event) for a publish. */
export function listening(name: EventName): boolean {
  return channelOf(name).hasSubscribers;
}

/** Publishes `event` to the subscribers of `name`, if any. A subscriber that throws does not reach the runtime. */
export function publish<N extends EventName>(name: N, event: JunctionEvents[N]): void {
  const ch = channelOf(name);
  if (ch.hasSubscribers) ch.publish(event);
}

/** Calls `fn` for every event of `name` until the returned function is called. */
export function subscribe<N extends EventName>(name: N, fn: (event: JunctionEvents[N]) => void): () => void {
  const listener = (message: unknown): void => fn(message as JunctionEvents[N]);
  diagnostics.subscribe(`junction:${name}`, listener);
  return () => {
    diagnostics.unsubscribe(`junction:${name}`, listener);
  };
}
