/**
 * @module steps/builtin
 * The registry of step types: the config schema and the runtime both read it.
 */
import { batchStep } from './batch.ts';
import { callStep } from './call.ts';
import { codeStep } from './code.ts';
import { convertStep } from './convert/index.ts';
import { deliverStep } from './deliver.ts';
import { enrichStep } from './enrich.ts';
import { filterStep } from './filter.ts';
import { mapStep } from './map.ts';
import { respondStep } from './respond.ts';
import { splitStep } from './split.ts';
import type { StepDefinition } from './step.ts';
import { validateStep } from './validate.ts';

export const builtinSteps: ReadonlyMap<string, StepDefinition> = new Map<string, StepDefinition>([
  [validateStep.name, validateStep as StepDefinition],
  [mapStep.name, mapStep as StepDefinition],
  [enrichStep.name, enrichStep as StepDefinition],
  [filterStep.name, filterStep as StepDefinition],
  [splitStep.name, splitStep as StepDefinition],
  [deliverStep.name, deliverStep as StepDefinition],
  [callStep.name, callStep as StepDefinition],
  [respondStep.name, respondStep as StepDefinition],
  [batchStep.name, batchStep as StepDefinition],
  [codeStep.name, codeStep as StepDefinition],
  [convertStep.name, convertStep as StepDefinition],
]);
