/**
 * @module engine/connector-checks
 * What a connector type checks beyond its options' shape, by reading
 * something (a WSDL, an SDL file): its `check` hook on each connector of that
 * type, and its `checkRequest` hook on each step or poll request naming one.
 * Run by `junction check` and at start-up, before connectors are created;
 * every issue is reported at its line, like the loader's own.
 */
import { configError, type LoadedConfig } from '../config/load.ts';
import type { ConfigIssue, KeyPath } from '../config/issue.ts';
import { connectorTypes } from '../connectors/registry.ts';
import { isRecord } from '../core/record.ts';
import { splitRequest } from '../steps/request.ts';
import { stepTypes } from '../steps/registry.ts';
import { triggerTypes } from '../triggers/registry.ts';

/** The keys of a component's own options; any other key on a step that calls a connector is its request's. */
function ownKeys(options: unknown): string[] {
  const shape = (options as { shape?: Record<string, unknown> } | undefined)?.shape;
  return shape === undefined ? [] : Object.keys(shape);
}

/** @throws JNC_CONFIG_INVALID listing every issue the connector types found. */
export async function checkConnectors(loaded: LoadedConfig): Promise<void> {
  const { config, baseDir } = loaded;
  const ctx = { baseDir };
  const issues: ConfigIssue[] = [];
  const add = (at: KeyPath, found: { path: (string | number)[]; message: string }[]) => {
    for (const i of found) issues.push(loaded.issueAt([...at, ...i.path], i.message));
  };
  for (const [name, options] of Object.entries(config.connectors)) {
    const def = connectorTypes.get(options.type);
    if (def?.check) add(['connectors', name], await def.check(options, ctx));
  }
  for (const { at, connector, request, moved } of requestsOf(config.flows)) {
    const options = config.connectors[connector];
    const def = options === undefined ? undefined : connectorTypes.get(options.type);
    if (options === undefined || !def?.checkRequest) continue;
    // A request key written on the step itself (DESIGN's shorthand) is reported there.
    for (const i of await def.checkRequest(options, request, ctx)) {
      const onStep = typeof i.path[0] === 'string' && moved.includes(i.path[0]);
      issues.push(loaded.issueAt([...at, ...(onStep ? [] : ['request']), ...i.path], i.message));
    }
  }
  if (issues.length > 0) throw configError(loaded.file, issues);
}

/** Every step and poll trigger that names a connector, with its `request` as written. */
function requestsOf(flows: LoadedConfig['config']['flows']): { at: KeyPath; connector: string; request: unknown; moved: string[] }[] {
  const out: { at: KeyPath; connector: string; request: unknown; moved: string[] }[] = [];
  for (const [flow, def] of Object.entries(flows)) {
    for (const [i, step] of def.steps.entries()) {
      const o = step.options;
      if (!isRecord(o) || typeof o.connector !== 'string') continue;
      out.push({ at: ['flows', flow, 'steps', i, step.type], connector: o.connector, ...splitRequest(o, ownKeys(stepTypes.get(step.type)?.options)) });
    }
    const t = def.trigger.options;
    if (isRecord(t) && typeof t.connector === 'string') {
      out.push({ at: ['flows', flow, 'trigger', def.trigger.type], connector: t.connector, ...splitRequest(t, ownKeys(triggerTypes.get(def.trigger.type)?.options)) });
    }
  }
  return out;
}
