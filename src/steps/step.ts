/**
 * @module steps/step
 * The step extension point. A step is a function `(message, ctx) → message |
 * message[] | DROP` that either returns or throws a JunctionError; the runtime
 * turns what it throws into a retry or a dead letter. One {@link StepDefinition}
 * binds a step's name, its option schema (parsing, defaults, JSON Schema, docs)
 * and its factory.
 */
import type { z } from 'zod';
import type { Clock } from '../core/clock.ts';
import type { Message } from '../core/message.ts';
import type { TraceScope } from '../core/trace-context.ts';
import type { Connector } from '../connectors/connector.ts';
import type { Logger } from '../observability/logger.ts';

// Symbol.for: a user module that loads its own copy of the package must still drop.
export const DROP: unique symbol = Symbol.for('junction.drop');

/** The synchronous answer a `respond` step gives the HTTP caller. */
export interface StepResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

export interface StepContext {
  /** Aborted on shutdown: stop and throw; the message goes back to the queue. */
  signal: AbortSignal;
  logger: Logger;
  clock: Clock;
  /** Answers the HTTP request waiting for this message, if one is. */
  respond?: (response: StepResponse) => void;
  /** Told the Idempotency-Key a request is about to send; the attempt's history keeps the last one. */
  sendsIdempotencyKey?: (key: string) => void;
  /** The attempt, to observers (tracing): set only when someone listens; pass it on in the connector call's context. */
  scope?: TraceScope | undefined;
}

/**
 * How a batch step hands control back to the runtime (internal): the member that
 * leads runs the rest of the flow on the combined message and reports how it
 * went; every other member waits for that result and shares it.
 */
export const BATCH_LEAD: unique symbol = Symbol('junction.batch.lead');
export const BATCH_JOINED: unique symbol = Symbol('junction.batch.joined');
export interface BatchLead {
  [BATCH_LEAD]: { message: Message; settle(error?: unknown): void };
}
export interface BatchJoined {
  [BATCH_JOINED]: Promise<void>;
}

export type StepResult = Message | Message[] | typeof DROP | BatchLead | BatchJoined;
export type Step = (msg: Message, ctx: StepContext) => Promise<StepResult>;

/** What a step factory may use, resolved once at start-up. */
export interface StepDeps {
  flow: string;
  /** Position in the flow, from 0, for error messages. */
  index: number;
  /** Relative paths in options (schema files, code modules) start here: the config file's directory. */
  baseDir: string;
  connector(name: string): Connector;
}

export interface StepDefinition<O extends z.ZodType = z.ZodType> {
  readonly name: string;
  readonly summary: string;
  readonly options: O;
  /** Called once at start-up; a thrown error stops start-up, naming the step. */
  create(options: z.output<O>, deps: StepDeps): Step | Promise<Step>;
  /** True when these options make the trigger run the step before storing the message too. */
  atIngress?(options: z.output<O>): boolean;
}

export function defineStep<O extends z.ZodType>(def: StepDefinition<O>): StepDefinition<O> {
  return def;
}
