/**
 * @module runtime/flow
 * Turns a flow's config into a runnable list of steps, once, at start-up.
 */
import type { Connector, RetryPolicy } from '../connectors/connector.ts';
import type { FlowConfig } from '../config/schema.ts';
import { errors } from '../core/errors.ts';
import type { Message } from '../core/message.ts';
import { builtinSteps } from '../steps/builtin.ts';
import { DROP, type Step, type StepContext } from '../steps/step.ts';

interface CompiledStep {
  name: string;
  run: Step;
  /** The retry policy of the connector the step calls, else the flow's. */
  retry: RetryPolicy;
}

export interface CompiledFlow {
  readonly name: string;
  readonly config: FlowConfig;
  /**
   * Runs every step on the message (and on each message a step fans out to).
   * Resolves when all are done or dropped; rejects with the first error, tagged
   * with the retry policy that applies to it.
   */
  run(msg: Message, ctx: StepContext): Promise<void>;
}

/** Carries the policy of the step that failed up to the worker. */
export class StepFailure extends Error {
  readonly error: unknown;
  readonly retry: RetryPolicy;
  readonly step: string;

  constructor(error: unknown, retry: RetryPolicy, step: string) {
    super('step failed', { cause: error });
    this.error = error;
    this.retry = retry;
    this.step = step;
  }
}

export function compileFlow(name: string, config: FlowConfig, connectors: ReadonlyMap<string, Connector>): CompiledFlow {
  const steps: CompiledStep[] = config.steps.map((s, index) => {
    const def = builtinSteps.get(s.type);
    if (!def) throw errors.CONFIG_INVALID.create([`flows.${name}.steps[${index}]: unknown step type ${s.type}`]);
    let used: Connector | undefined;
    const run = def.create(s.options, {
      flow: name,
      index,
      connector(connectorName) {
        const c = connectors.get(connectorName);
        if (!c) throw errors.CONFIG_INVALID.create([`flows.${name}.steps[${index}]: unknown connector ${connectorName}`]);
        used = c;
        return c;
      },
    });
    return { name: `${s.type}#${index}`, run, retry: used?.retry ?? config.retry };
  });

  async function runFrom(i: number, msg: Message, ctx: StepContext): Promise<void> {
    for (let k = i; k < steps.length; k++) {
      const step = steps[k]!;
      let out;
      try {
        out = await step.run(msg, ctx);
      } catch (e) {
        throw new StepFailure(e, step.retry, step.name);
      }
      if (out === DROP) return;
      if (Array.isArray(out)) {
        // Fan-out stays in one attempt: the message acks only when every part is done.
        for (const part of out) await runFrom(k + 1, part, ctx);
        return;
      }
      msg = out;
    }
  }

  return { name, config, run: (msg, ctx) => runFrom(0, msg, ctx) };
}
