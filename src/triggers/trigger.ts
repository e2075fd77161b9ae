/**
 * @module triggers/trigger
 * The trigger extension point (the Benthos input lifecycle): what starts a
 * flow. One {@link defineTrigger} binds a trigger type's name, its options
 * schema (parsing, defaults, JSON Schema, docs) and its factory; the registry
 * in `triggers/registry.ts` lists them.
 *
 * A trigger hands its messages to `ingest` (`triggers/ingest.ts`), which
 * resolves only once they are durable.
 */
import type { z } from 'zod';
import type { Connector } from '../connectors/connector.ts';
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../observability/logger.ts';
import type { Store } from '../store/store.ts';
import type { HttpRoute } from './http-route.ts';
import type { Ingest, IngressCheck } from './ingest.ts';

export interface Trigger {
  readonly flow: string;
  /** The trigger type, e.g. `http`. */
  readonly type: string;
  /**
   * Starts handing messages to `ingest`; resolves once started (not when done).
   * Called after the server listens, before the worker claims. `signal` aborts
   * on shutdown.
   */
  start(ingest: Ingest, signal: AbortSignal): Promise<void>;
  /** Stops taking messages; resolves when nothing more will be ingested. */
  stop(): Promise<void>;
  /** What the admin API shows of it: options safe to show, never credentials. */
  describe(): Record<string, unknown>;
}

/** What a trigger may use, resolved once at start-up. */
export interface TriggerDeps {
  flow: string;
  clock: Clock;
  logger: Logger;
  store: Store;
  /** Relative paths in options start here: the config file's directory. */
  baseDir: string;
  /** The flow's ingress steps (validate with `at: ingress`), when it has some. */
  check: IngressCheck | undefined;
  /** Set when the flow answers synchronously (respond step): how long a caller waits. */
  respondTimeoutMs: number | undefined;
  /** The HTTP server's routes: a trigger that listens on HTTP adds its route here, before the server starts. */
  routes: { add(route: HttpRoute): void };
  /** The connector of that name, with its whole pipeline (a poll calls through it); throws JNC_CONFIG_INVALID for an unknown one. */
  connector(name: string): Connector;
  /** The engine's worker id: a run's events (tracing) name it, so that engines sharing a process stay apart. */
  worker?: string | undefined;
}

export interface TriggerDefinition<O extends z.ZodType = z.ZodType> {
  /** The key under `trigger:` in junction.yaml. */
  readonly name: string;
  readonly summary: string;
  readonly options: O;
  /** Called once per flow at start-up; a thrown error stops start-up, naming the flow. */
  create(options: z.output<O>, deps: TriggerDeps): Trigger | Promise<Trigger>;
}

/** Binds a trigger type's name, options schema, factory and docs. Register it in `triggers/registry.ts`. */
export function defineTrigger<O extends z.ZodType>(def: TriggerDefinition<O>): TriggerDefinition<O> {
  return def;
}
