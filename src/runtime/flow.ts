/**
 * @module runtime/flow
 * Turns a flow's config into a runnable list of steps, once, at start-up, and
 * runs a message through them.
 *
 * A step that returns several messages (split) fans out durably: each part is
 * stored as its own message that resumes at the next step, with an idempotency
 * key derived from the parent's, so a parent run again after a crash makes no
 * new parts, and each part is retried or dead-lettered on its own.
 */
import type { RetryPolicy } from '../core/call.ts';
import type { Connector } from '../connectors/connector.ts';
import { errors, isJunctionError } from '../core/errors.ts';
import type { Message, NewMessage } from '../core/message.ts';
import { listening, publish } from '../observability/channels.ts';
import { stepTypes } from '../steps/registry.ts';
import { BATCH_JOINED, BATCH_LEAD, DROP, type Step, type StepContext, type StepResult } from '../steps/step.ts';

interface CompiledStep {
  name: string;
  run: Step;
  /** The retry policy of the connector the step calls, else the flow's. */
  retry: RetryPolicy;
  /** Also run by the trigger before the message is stored (validate with `at: ingress`). */
  atIngress: boolean;
  /** The connector the step calls, if any: named in the worker's log line when the step fails. */
  connector: string | undefined;
}

export interface RunContext extends StepContext {
  /** Stores the parts of a fan-out; resolves after commit. */
  fanOut(parts: NewMessage[]): Promise<void>;
}

/** How a run ended, when it did not throw. */
export type FlowResult =
  | { kind: 'done' }
  | { kind: 'dropped'; step: string }
  | { kind: 'fanned-out'; step: string; parts: number }
  /** A batch member whose batch went through (another member carried it). */
  | { kind: 'batched'; step: string };

/** What the runtime needs of a flow's config: its steps, and the retry policy of steps that call no connector. */
export interface FlowSpec {
  readonly steps: readonly { readonly type: string; readonly options: unknown }[];
  readonly retry: RetryPolicy;
}

/** A key path into the config, for start-up failures: `['flows', 'a', 'steps', 1, 'map']`. */
export type FlowKeyPath = readonly (string | number)[];

export interface CompiledFlow {
  readonly name: string;
  /** The retry policy of failures not tied to a connector. */
  readonly retry: RetryPolicy;
  /** True when some step checks messages at ingress. */
  readonly checksAtIngress: boolean;
  /** Set when the flow has a respond step: how long the HTTP caller waits for it. */
  readonly respondTimeoutMs: number | undefined;
  /**
   * Runs the ingress steps on a message that is not stored yet. Rejects with the
   * step's error (an input error becomes the HTTP refusal).
   */
  checkIngress(msg: Message, ctx: StepContext): Promise<void>;
  /**
   * Runs the steps from `msg.startStep`. Rejects with a {@link StepFailure} that
   * names the failing step and the retry policy that applies to it.
   */
  run(msg: Message, ctx: RunContext): Promise<FlowResult>;
}

/** Carries the policy of the step that failed up to the worker. */
export class StepFailure extends Error {
  readonly error: unknown;
  readonly retry: RetryPolicy;
  readonly step: string;
  /** The connector the step calls, if it calls one. */
  readonly connector: string | undefined;

  constructor(error: unknown, retry: RetryPolicy, step: string, connector?: string) {
    super('step failed', { cause: error });
    this.error = error;
    this.retry = retry;
    this.step = step;
    this.connector = connector;
  }
}

export interface FlowDeps {
  connectors: ReadonlyMap<string, Connector>;
  /** Relative paths in step options (schemas, code modules) start here: the config file's directory. */
  baseDir: string;
}

/**
 * Builds the flow's steps from their registered types. A step that cannot start
 * rejects with JNC_CONFIG_INVALID whose `details.failures` name each failing
 * step by key path, for the caller to place at its line.
 */
export async function compileFlow(name: string, config: FlowSpec, deps: FlowDeps): Promise<CompiledFlow> {
  const steps: CompiledStep[] = [];
  const failures: { keyPath: FlowKeyPath; reason: string; code: string | undefined }[] = [];
  for (const [index, s] of config.steps.entries()) {
    const def = stepTypes.get(s.type);
    let used: Connector | undefined;
    try {
      if (!def) throw new Error(`unknown step type ${s.type}`);
      const run = await def.create(s.options, {
        flow: name,
        index,
        baseDir: deps.baseDir,
        connector(connectorName) {
          const c = deps.connectors.get(connectorName);
          if (!c) throw errors.CONFIG_INVALID.create([`unknown connector ${connectorName}`]);
          used = c;
          return c;
        },
      });
      steps.push({ name: `${s.type}#${index}`, run, retry: used?.retry ?? config.retry, atIngress: def.atIngress?.(s.options) ?? false, connector: used?.name });
    } catch (e) {
      // Keep going: every step that cannot start is reported in one run.
      const code = isJunctionError(e) ? e.code : undefined;
      failures.push({ keyPath: ['flows', name, 'steps', index, s.type], reason: (e as Error).message, code });
    }
  }
  if (failures.length > 0) {
    const where = (path: FlowKeyPath): string => path.map((seg, i) => (typeof seg === 'number' ? `[${seg}]` : i === 0 ? seg : `.${seg}`)).join('');
    const summary = failures.map((f) => `${where(f.keyPath)}: ${f.reason}`).join('; ');
    throw errors.CONFIG_INVALID.create([summary], { details: { failures } });
  }
  const ingress = steps.filter((s) => s.atIngress);

  async function runFrom(start: number, msg: Message, ctx: RunContext): Promise<FlowResult> {
    for (let k = start; k < steps.length; k++) {
      const step = steps[k]!;
      // The scope is set only while someone observes attempts; a step's events are its part of the attempt.
      const scope = ctx.scope !== undefined && listening('step:start') ? ctx.scope : undefined;
      if (scope) publish('step:start', { scope, flow: name, step: step.name });
      let out;
      try {
        out = await step.run(msg, ctx);
      } catch (e) {
        if (scope) publish('step:end', { scope, flow: name, step: step.name, code: isJunctionError(e) ? e.code : errors.STEP_FAILED.code });
        throw new StepFailure(e, step.retry, step.name, step.connector);
      }
      if (scope) publish('step:end', { scope, flow: name, step: step.name });
      if (out === DROP) return { kind: 'dropped', step: step.name };
      if (isJoined(out)) {
        await out[BATCH_JOINED];
        return { kind: 'batched', step: step.name };
      }
      if (isLead(out)) {
        const { message, settle } = out[BATCH_LEAD];
        try {
          const result = await runFrom(k + 1, message, ctx);
          settle();
          return result;
        } catch (e) {
          settle(e);
          throw e;
        }
      }
      if (Array.isArray(out)) {
        try {
          await ctx.fanOut(out.map((part, i) => toPart(name, msg, part, i, k + 1)));
        } catch (e) {
          throw new StepFailure(e, step.retry, step.name);
        }
        return { kind: 'fanned-out', step: step.name, parts: out.length };
      }
      msg = out;
    }
    return { kind: 'done' };
  }

  const respond = config.steps.find((s) => s.type === 'respond')?.options as { timeoutMs: number } | undefined;
  return {
    name,
    retry: config.retry,
    checksAtIngress: ingress.length > 0,
    respondTimeoutMs: respond?.timeoutMs,
    async checkIngress(msg, ctx) {
      for (const step of ingress) await step.run(msg, ctx);
    },
    run: (msg, ctx) => runFrom(msg.startStep ?? 0, msg, ctx),
  };
}

function isLead(out: StepResult): out is Extract<StepResult, { [BATCH_LEAD]: unknown }> {
  return typeof out === 'object' && out !== null && BATCH_LEAD in out;
}

function isJoined(out: StepResult): out is Extract<StepResult, { [BATCH_JOINED]: unknown }> {
  return typeof out === 'object' && out !== null && BATCH_JOINED in out;
}

/**
 * A part keeps the parent's headers, meta and trace. Its key is the one the step
 * gave it, or, when the step left the parent's, the parent's with the part's index.
 */
function toPart(flow: string, parent: Message, part: Message, index: number, startStep: number): NewMessage {
  const key = part.idempotencyKey && part.idempotencyKey !== parent.idempotencyKey ? part.idempotencyKey : `${parent.idempotencyKey}:${index}`;
  return {
    flow,
    body: part.body,
    headers: part.headers,
    meta: part.meta,
    dedupeKey: key,
    traceparent: part.traceparent ?? parent.traceparent,
    startStep,
  };
}
