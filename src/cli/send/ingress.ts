/**
 * @module cli/send/ingress
 * The ingress checks of a flow (`validate: { at: ingress }`), built for
 * `junction send` as the engine builds them for its HTTP trigger: a message
 * they refuse is not stored. Only the ingress steps are built, so a shell
 * without the connectors (or their secrets) can still send.
 */
import { systemClock } from '../../core/clock.ts';
import { errors } from '../../core/errors.ts';
import type { NewMessage } from '../../core/message.ts';
import { createLogger } from '../../observability/logger.ts';
import { stepTypes } from '../../steps/registry.ts';
import type { Step } from '../../steps/step.ts';

/** Rejects with the step's error (JNC_INPUT_SCHEMA for a body that does not match) to refuse the message. */
export type SendCheck = (msg: NewMessage) => Promise<void>;

/** How long one check may take: a schema with remote `$ref`s is loaded at start-up, so this is generous. */
const CHECK_TIMEOUT_MS = 10_000;

/**
 * The flow's ingress steps as one check, or undefined when it has none.
 * @throws what a step's factory throws (a schema file that cannot be read), as `junction run` would at start-up.
 */
export async function ingressCheck(flow: string, steps: readonly { type: string; options: unknown }[], baseDir: string): Promise<SendCheck | undefined> {
  const checks: Step[] = [];
  for (const [index, s] of steps.entries()) {
    const def = stepTypes.get(s.type);
    if (!def?.atIngress?.(s.options)) continue;
    checks.push(
      await def.create(s.options, {
        flow,
        index,
        baseDir,
        // An ingress step judges the body alone; none calls a connector.
        connector: (name) => {
          throw errors.CONFIG_INVALID.create([`flow ${flow}: step ${index} (${s.type}) needs connector ${name} at ingress, which junction send does not build`]);
        },
      }),
    );
  }
  if (checks.length === 0) return undefined;
  const logger = createLogger({ level: 'silent' });
  return async (msg) => {
    const message = { id: '', attempt: 0, idempotencyKey: msg.dedupeKey ?? '', flow: msg.flow, body: msg.body, headers: msg.headers ?? {}, meta: msg.meta ?? {} };
    for (const check of checks) await check(message, { signal: AbortSignal.timeout(CHECK_TIMEOUT_MS), logger, clock: systemClock });
  };
}
