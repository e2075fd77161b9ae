/**
 * @module steps/code
 * A step of the user's own: `- code: ./steps/score.ts` names a TypeScript (or
 * JavaScript) module whose default export is a {@link CodeStep}, a
 * `(message, ctx) => …` function. What no built-in step does is plain code,
 * with the same retry and dead-letter rules as every other step:
 *
 * - it returns the message (changed or not), an array of messages (a durable
 *   fan-out, each part going on from the next step), `DROP`, or nothing (the
 *   message goes on as it is);
 * - a plain `Error` it throws is transient (`JNC_STEP_FAILED`): retried, then a
 *   dead letter after `retry.maxAttempts`; {@link permanent} makes a dead letter
 *   at once and {@link retryLater} picks the time of the next attempt;
 * - anything else it returns is a dead letter naming the module
 *   (`JNC_CODE_RESULT_INVALID`), since it would return the same on every retry.
 *
 * The module is imported once, at start-up: a missing file, an import that
 * throws or a default export that is not a function stops start-up, naming the
 * step. Node runs `.ts` by stripping types, so the module must be erasable
 * TypeScript with `.ts` import extensions.
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { errors, isJunctionError, type JunctionError } from '../core/errors.ts';
import type { Json, Message } from '../core/message.ts';
import { isRecord } from '../core/record.ts';
import type { Logger } from '../observability/logger.ts';
import { defineStep, DROP, type StepContext } from './step.ts';

/** What the function gets besides the message. */
export interface CodeContext<O = Record<string, Json>> extends StepContext {
  /**
   * The step's `options` from junction.yaml, as written (frozen); `{}` when none.
   * `signal` is aborted on shutdown: code that waits long (a fetch, a timer)
   * should pass it on or check it, so that the message goes back to the queue
   * without spending an attempt instead of holding up the drain.
   */
  readonly options: O;
}

/** What the function may return; `undefined` (or nothing) passes the message on unchanged. */
export type CodeResult<B = Json> = Message<B> | Message<B>[] | typeof DROP | undefined | void;

/**
 * The default export of a `code` module. `In` is the body it expects (an
 * unchecked claim: put a `validate` step first, or check it), `Out` the body it
 * returns, `O` its `options`.
 *
 * ```ts
 * import { permanent, type CodeStep } from 'junction-engine';
 * const score: CodeStep<{ email?: string }, { email: string; score: number }> = (message) => {
 *   if (!message.body.email) throw permanent('lead has no email');
 *   return { ...message, body: { email: message.body.email, score: 10 } };
 * };
 * export default score;
 * ```
 */
export type CodeStep<In = Json, Out = In, O = Record<string, Json>> = (
  message: Message<In>,
  ctx: CodeContext<O>,
) => CodeResult<Out> | Promise<CodeResult<Out>>;

/**
 * An error that says this message can never succeed (bad input): thrown from a
 * code step, it makes a dead letter at once (`JNC_STEP_REJECTED`), with this
 * message, its `cause` and `details` (keep secrets out of both).
 */
export function permanent(message: string, opts: { cause?: unknown; details?: Record<string, unknown> } = {}): JunctionError {
  return errors.STEP_REJECTED.create([message], opts);
}

/**
 * An error that says "not now" (`JNC_STEP_RETRY_LATER`, transient): the next
 * attempt comes after `afterMs` (capped by the flow's `retry.maxMs`), or after
 * the usual backoff when absent. It spends an attempt, as any failure does.
 */
export function retryLater(message: string, opts: { afterMs?: number; cause?: unknown } = {}): JunctionError {
  const afterMs = opts.afterMs !== undefined && Number.isFinite(opts.afterMs) ? Math.max(0, opts.afterMs) : undefined;
  return errors.STEP_RETRY_LATER.create([message], { cause: opts.cause, retryAfterMs: afterMs });
}

const modulePath = z
  .string()
  .min(1)
  .describe("Path of the module, relative to the config file's directory; its default export is the step function.");

export const codeOptions = z
  .union([
    modulePath,
    z.strictObject({
      module: modulePath,
      options: z
        .record(z.string(), z.unknown())
        .default({})
        .describe('Any JSON object, handed to the function as ctx.options.'),
    }),
  ])
  // One shape for create(): the shorthand is a module without options.
  .transform((o) => (typeof o === 'string' ? { module: o, options: {} } : o))
  .describe(
    "Run your own TypeScript function on each message: a module path (relative to the config file's directory), or " +
      '{ module, options } where options is any JSON object handed to the function as ctx.options. ' +
      "The module's default export is the function (type CodeStep from 'junction-engine').",
  );

type UserFunction = (message: Message, ctx: CodeContext<unknown>) => unknown;

export const codeStep = defineStep({
  name: 'code',
  summary: 'Run your own TypeScript function (the default export of a module) on each message.',
  options: codeOptions,
  async create(options, deps) {
    const label = options.module;
    const fn = await load(label, resolve(deps.baseDir, options.module));
    const userOptions = options.options;
    return async function code(msg, ctx) {
      let logger: Logger | undefined;
      const userCtx: CodeContext<unknown> = {
        signal: ctx.signal,
        // Made only if the user's code logs: a child logger per message costs more than most steps.
        get logger() {
          return (logger ??= ctx.logger.child({ step: `code#${deps.index}`, module: label }));
        },
        clock: ctx.clock,
        ...(ctx.respond ? { respond: ctx.respond } : {}),
        options: userOptions,
      };
      let out: unknown;
      try {
        out = await fn(msg, userCtx);
      } catch (e) {
        // permanent(), retryLater() and our own errors keep their family; anything else is assumed transient.
        if (isJunctionError(e)) throw e;
        throw errors.STEP_FAILED.create([label, e instanceof Error ? e.message : String(e)], { cause: e });
      }
      return toResult(label, msg, out);
    };
  },
});

async function load(label: string, file: string): Promise<UserFunction> {
  const info = await stat(file).catch(() => undefined);
  if (!info?.isFile()) throw errors.CODE_NOT_FOUND.create([label, file]);
  let mod: { default?: unknown };
  try {
    mod = (await import(pathToFileURL(file).href)) as { default?: unknown };
  } catch (e) {
    throw errors.CODE_IMPORT_FAILED.create([label, e instanceof Error ? e.message : String(e)], { cause: e });
  }
  if (typeof mod.default !== 'function') {
    throw errors.CODE_NOT_FUNCTION.create([label, mod.default === undefined ? 'undefined: the module has no default export' : kindOf(mod.default)]);
  }
  return mod.default as UserFunction;
}

const HINT = 'return the message, an array of messages, DROP, or nothing';

/** Checks what the function returned; anything unusable is a dead letter that says what came back. */
function toResult(label: string, msg: Message, out: unknown): Message | Message[] | typeof DROP {
  if (out === undefined) return msg;
  if (out === DROP) return DROP;
  if (Array.isArray(out)) return out.map((part: unknown, i) => toMessage(label, msg, part, `an array whose item ${i} is`));
  return toMessage(label, msg, out, '');
}

/**
 * A returned message takes the place of the input. Its id, flow and attempt stay
 * the runtime's; body, headers, meta, idempotencyKey and traceparent are the
 * returned ones, or the input's when absent, so `{ ...message, body }` and
 * `{ body }` both work.
 */
function toMessage(label: string, parent: Message, value: unknown, prefix: string): Message {
  const bad = (what: string, hint = HINT): never => {
    throw errors.CODE_RESULT_INVALID.create([label, `${prefix ? `${prefix} ` : ''}${what}; ${hint}`]);
  };
  if (!isRecord(value)) return bad(kindOf(value));
  const m = value as Partial<Record<keyof Message, unknown>>;
  if (m.body === undefined) return bad('an object without a body', 'return the message ({ ...message, body }), an array of messages, DROP, or nothing');
  if (typeof m.body === 'function' || typeof m.body === 'symbol' || typeof m.body === 'bigint') {
    return bad(`a message whose body is ${kindOf(m.body)}`, 'a body is JSON');
  }
  if (m.headers !== undefined && !isStringRecord(m.headers)) return bad('a message whose headers are not all strings', 'headers map names to string values');
  if (m.meta !== undefined && !isRecord(m.meta)) return bad(`a message whose meta is ${kindOf(m.meta)}`, 'meta is a JSON object');
  if (m.idempotencyKey !== undefined && (typeof m.idempotencyKey !== 'string' || m.idempotencyKey === '')) {
    return bad('a message whose idempotencyKey is not a non-empty string', 'leave it out to keep the current key');
  }
  if (m.traceparent !== undefined && typeof m.traceparent !== 'string') return bad('a message whose traceparent is not a string', 'leave it out');
  return {
    ...parent,
    body: m.body as Json,
    headers: (m.headers as Record<string, string> | undefined) ?? parent.headers,
    meta: (m.meta as Record<string, Json> | undefined) ?? parent.meta,
    idempotencyKey: (m.idempotencyKey as string | undefined) ?? parent.idempotencyKey,
    traceparent: 'traceparent' in m ? (m.traceparent as string | undefined) : parent.traceparent,
  };
}

function isStringRecord(v: unknown): boolean {
  return isRecord(v) && Object.values(v).every((x) => typeof x === 'string');
}

/** "a number", "an array", "null": for messages that say what came back. */
function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'symbol') return v.description === 'junction.drop' ? 'a symbol (a DROP from another copy of junction?)' : 'a symbol';
  const t = typeof v;
  return /^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`;
}
