/**
 * @module junction
 * The public API: typed configuration, connectors usable on their own, the step
 * types for user code, and the error catalog.
 */
import { ZodError } from 'zod';
import type { JunctionConfigInput } from './config/schema.ts';
import type { Connector } from './connectors/connector.ts';
import { connectorEntry } from './config/schema.ts';
import { createConnector as createConfiguredConnector } from './connectors/registry.ts';
import { errors } from './core/errors.ts';

export type { JunctionConfig, JunctionConfigInput } from './config/schema.ts';
export type { Connector, ConnectorState } from './connectors/connector.ts';
export type { OutboundRequest, OutboundResponse, Classification, RetryPolicy } from './core/call.ts';
export type { Message, Json, Outcome } from './core/message.ts';
export type { Step, StepContext, StepResult } from './steps/step.ts';
export { DROP } from './steps/step.ts';
export { permanent, retryLater, type CodeStep, type CodeContext, type CodeResult } from './steps/code.ts';
export { errors, isJunctionError, JunctionError } from './core/errors.ts';
export { Secret } from './core/secret.ts';
export { loadConfig } from './config/load.ts';
export { startEngine, type Engine, type EngineOptions } from './engine/engine.ts';

/** Types a configuration written in TypeScript; returns it unchanged. */
export function defineConfig(config: JunctionConfigInput): JunctionConfigInput {
  return config;
}

/**
 * A connector on its own, without flows, with every policy of its type. Options
 * are those of `connectors.NAME` in junction.yaml (secrets as plain strings).
 * Throws JNC_OPTION_INVALID naming the option path on a bad option.
 */
export function createConnector(name: string, options: unknown): Connector {
  try {
    return createConfiguredConnector(name, connectorEntry.parse(options));
  } catch (e) {
    if (e instanceof ZodError) {
      const issue = e.issues[0];
      throw errors.OPTION_INVALID.create([issue?.path.join('.') || '(root)', issue?.message ?? 'invalid'], { cause: e });
    }
    throw e;
  }
}
