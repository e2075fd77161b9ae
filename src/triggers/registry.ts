/**
 * @module triggers/registry
 * The trigger types: the config schema, `junction schema`, `docs/config.md`
 * and the engine read this registry. A new trigger is its `defineTrigger` file
 * plus one `register` line below.
 */
import { Registry } from '../core/registry.ts';
import { httpTrigger } from './http.ts';
import { pollTrigger } from './poll.ts';
import { scheduleTrigger } from './schedule.ts';
import type { TriggerDefinition } from './trigger.ts';

export const triggerTypes = new Registry<TriggerDefinition>('trigger type');
triggerTypes.register(httpTrigger as TriggerDefinition);
triggerTypes.register(pollTrigger as TriggerDefinition);
triggerTypes.register(scheduleTrigger as TriggerDefinition);
