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
  /** A connector call leaves (cache hits included: they end with `cached`). */
  'call:start': { connector: string; method: string; path: string };
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
