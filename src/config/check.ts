/**
 * @module config/check
 * The second pass: mistakes that no single field shows, found by looking
 * across the config (a step naming a connector that does not exist, two flows
 * on one HTTP route). It reads the interpolated value, not zod's output, and
 * tolerates any shape, so that these are reported in the same run as the shape
 * errors elsewhere in the file.
 */
import type { z } from 'zod';
import { connectorTypes } from '../connectors/registry.ts';
import { isRecord } from '../core/record.ts';
import { stepTypes } from '../steps/registry.ts';
import type { RequestUse } from '../connectors/request-kind.ts';
import { requestUseOf, splitRequest } from '../steps/request.ts';
import { POLL_USE, pollOptions } from '../triggers/poll.ts';
import type { KeyPath, PathIssue } from './issue.ts';
import { allowedKeys, schemaAt } from './schema-path.ts';
import { fromZodIssues } from './zod-issues.ts';
import { closest } from '../core/suggest.ts';
import { checkAlertReferences } from './check-alerts.ts';
import { serverOptions } from './schema.ts';

/** Served by Junction itself (DESIGN.md "What the user runs"); a trigger there would never be reached. */
export const RESERVED_PATHS = ['/admin', '/healthz', '/metrics', '/readyz', '/ui'] as const;

export function checkReferences(config: unknown): PathIssue[] {
  if (!isRecord(config)) return [];
  const issues: PathIssue[] = metricsPort(config);
  if (!isRecord(config.flows)) return issues;
  const connectorConfigs = isRecord(config.connectors) ? config.connectors : {};
  const connectors = Object.keys(connectorConfigs);
  /** Each route, its trailing slash cut, to the flow that has it and the route as written there. */
  const routes = new Map<string, { flow: string; route: string }>();

  for (const [flow, def] of Object.entries(config.flows)) {
    if (!isRecord(def)) continue;
    issues.push(...stepReferences(flow, def.steps, connectors));
    issues.push(...stepRequests(flow, def.steps, connectorConfigs));
    issues.push(...pollReferences(flow, def.trigger, connectorConfigs));
    const http = isRecord(def.trigger) && isRecord(def.trigger.http) ? def.trigger.http : undefined;
    if (!http || typeof http.path !== 'string') continue;
    issues.push(...signedRecords(flow, http));
    const path = ['flows', flow, 'trigger', 'http', 'path'];
    const reserved = RESERVED_PATHS.find((r) => http.path === r || (http.path as string).startsWith(`${r}/`));
    if (reserved) issues.push({ path, message: `${reserved} is served by Junction itself; choose another path` });
    const method = http.method === undefined ? 'POST' : http.method;
    if (typeof method !== 'string') continue;
    const route = `${method} ${http.path}`;
    // The router ignores a trailing slash, so /a and /a/ are one route.
    const key = http.path === '/' ? route : route.replace(/\/$/, '');
    const other = routes.get(key);
    if (other === undefined) {
      routes.set(key, { flow, route });
      continue;
    }
    const slash = other.route === route ? '' : ' (a trailing slash makes no difference)';
    issues.push({ path, message: `${route} is already the trigger of flow "${other.flow}"${slash}; each flow needs its own path or method` });
  }
  issues.push(...checkAlertReferences(config));
  return issues;
}

/** The metrics' own server cannot listen on the main server's port (0 picks a free one for each: no clash). */
function metricsPort(config: Record<string, unknown>): PathIssue[] {
  const port = isRecord(config.metrics) ? config.metrics.port : undefined;
  if (typeof port !== 'number' || port === 0) return [];
  const server = isRecord(config.server) && config.server.port !== undefined ? config.server.port : serverOptions.shape.port.parse(undefined);
  if (port !== server) return [];
  return [{ path: ['metrics', 'port'], message: `${port} is server.port already; give the metrics server another port, or leave port out to serve /metrics on the main server` }];
}

/** A step of any type that holds a `connector` option must name a defined connector. */
function stepReferences(flow: string, steps: unknown, connectors: readonly string[]): PathIssue[] {
  if (!Array.isArray(steps)) return [];
  const issues: PathIssue[] = [];
  for (const [i, step] of steps.entries()) {
    if (!isRecord(step)) continue;
    const entries = Object.entries(step);
    if (entries.length !== 1) continue;
    const [type, options] = entries[0]!;
    if (!isRecord(options) || typeof options.connector !== 'string' || options.connector === '') continue;
    if (connectors.includes(options.connector)) continue;
    issues.push({ path: ['flows', flow, 'steps', i, type, 'connector'], message: unknownConnector(options.connector, connectors) });
  }
  return issues;
}

/**
 * A step's `request` is shaped by the type of the connector it names (rest:
 * method, path, headers, query): checked here, where that type is known, and
 * reported at its lines like a shape mistake. The type's keys may also sit on
 * the step itself (DESIGN's `operation: CreateOrder`); they are reported where
 * they are written.
 */
function stepRequests(flow: string, steps: unknown, connectors: Record<string, unknown>): PathIssue[] {
  if (!Array.isArray(steps)) return [];
  const issues: PathIssue[] = [];
  for (const [i, step] of steps.entries()) {
    if (!isRecord(step) || Object.keys(step).length !== 1) continue;
    const [type, options] = Object.entries(step)[0]!;
    const shape = (stepTypes.get(type)?.options as { shape?: Record<string, z.core.$ZodType> } | undefined)?.shape;
    const use = requestUseOf(shape?.request);
    if (use === undefined || !isRecord(options) || typeof options.connector !== 'string') continue;
    issues.push(...requestIssues(['flows', flow, 'steps', i, type], `a ${type} step`, Object.keys(shape!), use, connectors[options.connector], options));
  }
  return issues;
}

/**
 * A request checked against the type of the connector it goes to; nothing when
 * that type is unknown (reported on its own).
 * @param at the step (or trigger) holding the request
 * @param own the keys of the step's own schema; any other key on it is the request's
 */
function requestIssues(at: KeyPath, holder: string, own: readonly string[], use: RequestUse, connector: unknown, options: Record<string, unknown>): PathIssue[] {
  const kind = isRecord(connector) && typeof connector.type === 'string' ? connectorTypes.get(connector.type)?.request : undefined;
  if (kind === undefined) return [];
  const { request, moved, both } = splitRequest(options, own);
  const issues: PathIssue[] = both.map((key) => ({ path: [...at, key], at: 'key' as const, message: `${key} is written both here and under request; keep one` }));
  const schema = kind.options(use);
  const parsed = schema.safeParse(request ?? {});
  if (parsed.success) return issues;
  for (const issue of fromZodIssues(parsed.error.issues, schema, request ?? {})) {
    const first = issue.path[0];
    if (typeof first !== 'string' || !moved.includes(first) || both.includes(first)) {
      issues.push({ ...issue, path: [...at, 'request', ...issue.path] });
      continue;
    }
    // A key on the step that is neither the step's nor the request's: name both lists.
    const unknown = issue.at === 'key' && issue.path.length === 1;
    const keys = allowedKeys(schemaAt(schema, [], request), request) ?? [];
    const guess = closest(first, [...own, ...keys]);
    const message = unknown
      ? `unknown key "${first}"${guess ? ` (did you mean "${guess}"?)` : ''}; ${holder} has ${own.join(', ')}, and a ${String((connector as { type: string }).type)} connector's request has ${keys.join(', ')}`
      : issue.message;
    issues.push({ ...issue, path: [...at, ...issue.path], message });
  }
  return issues;
}

/** A poll trigger names a connector, and its request is shaped by that connector's type, as a step's is. */
function pollReferences(flow: string, trigger: unknown, connectors: Record<string, unknown>): PathIssue[] {
  const poll = isRecord(trigger) && isRecord(trigger.poll) ? trigger.poll : undefined;
  if (poll === undefined || typeof poll.connector !== 'string' || poll.connector === '') return [];
  const at: KeyPath = ['flows', flow, 'trigger', 'poll'];
  if (!(poll.connector in connectors)) return [{ path: [...at, 'connector'], message: unknownConnector(poll.connector, Object.keys(connectors)) }];
  return requestIssues(at, 'a poll trigger', Object.keys(pollOptions.shape), POLL_USE, connectors[poll.connector], poll);
}

/** A signature covers the whole body, and a records upload is streamed, never held whole, so it could not be checked. */
function signedRecords(flow: string, http: Record<string, unknown>): PathIssue[] {
  if (http.records === undefined || !isRecord(http.auth) || http.auth.signature === undefined) return [];
  return [{
    path: ['flows', flow, 'trigger', 'http', 'auth', 'signature'],
    at: 'key',
    message: 'a signature covers the whole body, but a trigger with records streams its upload without keeping it, so no signature could be checked; drop records, or admit callers here another way',
  }];
}

function unknownConnector(name: string, connectors: readonly string[]): string {
  if (connectors.length === 0) return `unknown connector "${name}"; no connectors are defined (add one under connectors)`;
  const guess = closest(name, connectors);
  return `unknown connector "${name}"${guess ? ` (did you mean "${guess}"?)` : ''}; defined connectors: ${connectors.join(', ')}`;
}
