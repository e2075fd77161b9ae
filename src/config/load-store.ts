/**
 * @module config/load-store
 * The part of `junction.yaml` that a command working on the store alone needs
 * (`junction dlq …`): the `store` URL, and each flow's name and `redact`
 * fields. Only these are resolved and checked, so an operator's shell that
 * lacks a connector's secret can still list dead letters; `check` and `run`
 * read the whole file with config/load. `junction send` also reads its flow's
 * steps (to run the ingress checks), `junction status` the `server` part (to
 * reach the running server's admin API): each only when asked.
 */
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { redactOption } from '../observability/mask.ts';
import { configError, readConfigText, readSource, type LoadOptions } from './load.ts';
import { componentName, serverOptions, stepEntry, storeOptions } from './schema.ts';
import { fromZodIssues } from './zod-issues.ts';

const storeView = z.looseObject({
  store: storeOptions,
  // Present only for the flow named by `stepsOf`.
  flows: z.record(componentName, z.looseObject({ redact: redactOption.optional(), steps: z.array(stepEntry).optional() })),
  // Present only when `server` is asked for.
  server: serverOptions.optional(),
});

export type StoreConfig = z.output<typeof storeView>;

export interface StorePartOptions extends LoadOptions {
  /** Also read this flow's steps (an unknown flow is not a mistake here: the caller names the flows there are). */
  stepsOf?: string | undefined;
  /** Also read `server` (port, host, admin token). */
  server?: boolean | undefined;
}

export interface LoadedStoreConfig {
  readonly file: string;
  readonly baseDir: string;
  readonly config: StoreConfig;
}

/**
 * Reads the store part of a config file.
 * @throws JNC_CONFIG_UNREADABLE when the file cannot be read;
 *   JNC_CONFIG_INVALID, with every mistake in that part, file:line and path.
 */
export async function loadStoreConfig(file: string, opts: StorePartOptions = {}): Promise<LoadedStoreConfig> {
  const abs = resolve(file);
  const read = readSource(await readConfigText(abs), abs, opts.env ?? process.env, (value) => storePart(value, opts));
  if (!read.ok) throw configError(abs, read.issues);
  const { interpolated, place, source } = read;
  const parsed = storeView.safeParse(interpolated.value);
  const issues = [...interpolated.issues, ...(parsed.success ? [] : fromZodIssues(parsed.error.issues, storeView, interpolated.value))];
  if (!parsed.success || issues.length > 0 || source.problems.length > 0) throw configError(abs, place([...source.problems, ...issues]));
  return Object.freeze({ file: abs, baseDir: dirname(abs), config: parsed.data });
}

/** `store`, and `flows` with each flow's `redact` only (and what `opts` asks for); the rest is never resolved. */
function storePart(value: unknown, opts: StorePartOptions): unknown {
  if (!isRecord(value)) return value;
  const kept = (name: string, flow: unknown): Record<string, unknown> => {
    if (!isRecord(flow)) return {};
    return {
      ...('redact' in flow ? { redact: flow.redact } : {}),
      ...(name === opts.stepsOf && 'steps' in flow ? { steps: flow.steps } : {}),
    };
  };
  const flows = isRecord(value.flows) ? Object.fromEntries(Object.entries(value.flows).map(([name, flow]) => [name, kept(name, flow)])) : value.flows;
  return {
    ...('store' in value ? { store: value.store } : {}),
    ...(flows === undefined ? {} : { flows }),
    ...(opts.server ? { server: value.server ?? {} } : {}),
  };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
