/**
 * @module triggers/trigger-run
 * One run of a trigger that starts work by itself (a poll with its pages, a
 * schedule's firing), to observers: tracing makes it the root of a trace, the
 * parent of the run's connector calls and of every attempt of the messages it
 * stores. Nobody listening: no event, nothing to carry.
 */
import { coerceError } from '../core/errors.ts';
import type { TraceScope } from '../core/trace-context.ts';
import { listening, publish, type JunctionEvents } from '../observability/channels.ts';

export interface TriggerRun {
  /** For the run's connector calls (`CallContext.scope`). */
  readonly scope: TraceScope;
  /** The trace context to store with the run's messages; set by a subscriber (tracing), else undefined. */
  readonly traceparent: string | undefined;
  /** Publishes the run's end: how many records it read, or what it failed with. */
  end(records: number, error?: unknown): void;
}

/** @param worker the engine's worker id; without it (a trigger built outside an engine) runs are not published */
export function startTriggerRun(worker: string | undefined, flow: string, type: string): TriggerRun | undefined {
  if (worker === undefined || !listening('trigger:start')) return undefined;
  const start: JunctionEvents['trigger:start'] = { worker, flow, type, scope: {} };
  publish('trigger:start', start);
  return {
    scope: start.scope,
    get traceparent() {
      return start.traceparent;
    },
    end(records, error) {
      publish('trigger:end', { scope: start.scope, records, ...(error === undefined ? {} : { code: coerceError(error).code }) });
    },
  };
}
