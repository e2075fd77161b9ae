/**
 * @module steps/builtin
 * The registry of step types: the config schema and the runtime both read it.
 */
import { deliverStep } from './deliver.ts';
import { mapStep } from './map.ts';
import type { StepDefinition } from './step.ts';

export const builtinSteps: ReadonlyMap<string, StepDefinition> = new Map<string, StepDefinition>([
  [mapStep.name, mapStep as StepDefinition],
  [deliverStep.name, deliverStep as StepDefinition],
]);
