/**
 * @module steps/registry
 * The step types: the config schema, `junction schema`, `docs/config.md` and
 * the runtime all read this registry. A new step is its `defineStep` file plus
 * one `register` line below.
 */
import { Registry } from '../core/registry.ts';
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

export const stepTypes = new Registry<StepDefinition>('step type');
stepTypes.register(validateStep as StepDefinition);
stepTypes.register(mapStep as StepDefinition);
stepTypes.register(enrichStep as StepDefinition);
stepTypes.register(filterStep as StepDefinition);
stepTypes.register(splitStep as StepDefinition);
stepTypes.register(deliverStep as StepDefinition);
stepTypes.register(callStep as StepDefinition);
stepTypes.register(respondStep as StepDefinition);
stepTypes.register(batchStep as StepDefinition);
stepTypes.register(codeStep as StepDefinition);
stepTypes.register(convertStep as StepDefinition);
