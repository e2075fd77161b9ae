/**
 * @module server/admin/views
 * What the admin API says about flows and connectors: built from the validated
 * config, naming only what is safe to show. Credentials appear by kind only
 * (`bearer`, `apiKey`…), never by value, and static header values are left out
 * (a user may have put a key there); a URL loses its user info and query.
 */
import type { ConnectorState } from '../../connectors/connector.ts';
import type { ConnectorOptions } from '../../connectors/registry.ts';
import type { WindowFigures } from '../../observability/live-stats.ts';
import type { QueueStats } from '../../store/store.ts';

/** A flow as the engine hands it to the admin API: its trigger as the trigger describes itself (whatever its type). */
export interface FlowSummary {
  description?: string;
  /** `type` (http, …) and what the trigger says of itself (safe to show). */
  trigger: { type: string } & Record<string, unknown>;
  steps: readonly { type: string; options: unknown }[];
  redact: readonly string[];
}

export interface FlowView {
  name: string;
  description?: string;
  trigger: { type: string } & Record<string, unknown>;
  steps: { type: string; connector?: string }[];
  /** Fields masked when its messages and dead letters are shown. */
  redact: string[];
  /** Messages by state, from the store (all nodes). */
  messages: QueueStats;
  /** Messages a filter dropped, counted by this process since it started. */
  dropped: number;
  /** This process's outcomes over the last minute: rate (acks/s), error ratio, p95. */
  live: WindowFigures;
}

export function flowView(name: string, flow: FlowSummary, messages: QueueStats, dropped: number, live: WindowFigures): FlowView {
  return {
    name,
    ...(flow.description === undefined ? {} : { description: flow.description }),
    trigger: { ...flow.trigger },
    steps: flow.steps.map(({ type, options }) => {
      const connector = (options as { connector?: unknown } | undefined)?.connector;
      return typeof connector === 'string' ? { type, connector } : { type };
    }),
    redact: [...flow.redact],
    messages,
    dropped,
    live,
  };
}

export interface ConnectorView {
  name: string;
  type: string;
  /** Origin and path prefix only. */
  baseUrl?: string;
  /** A webhook's endpoint: origin and path only (a query string may hold a token). */
  url?: string;
  /** Which kind of credential it sends (`apiKey`, `bearer`, `basic`…), or none. */
  auth: string | null;
  /** Names of the static headers it sends; their values are not shown. */
  headers: string[];
  timeoutMs?: number;
  retry?: { maxAttempts: number; baseMs: number; maxMs: number };
  pool?: { connections: number; keepAliveMs: number; pipelining: number };
  /** Live state of its policies in this process (circuit, rate limit…), from `Connector.state()`. */
  state?: ConnectorState;
  /** This process's calls over the last minute: rate (successes/s), error ratio, p95. */
  live: WindowFigures;
}

/** Read by name, not by type: connector types to come (graphql, soap, webhook) have some of these and not others. */
export function connectorView(name: string, c: ConnectorOptions, state: ConnectorState | undefined, live: WindowFigures): ConnectorView {
  const o = c as unknown as Readonly<Record<string, unknown>>;
  const headers = o.headers as Readonly<Record<string, string>> | undefined;
  return {
    name,
    type: c.type,
    ...(typeof o.baseUrl === 'string' ? { baseUrl: safeUrl(o.baseUrl) } : {}),
    ...(typeof o.url === 'string' ? { url: safeUrl(o.url) } : {}),
    auth: kinds(o.auth as Readonly<Record<string, unknown>> | undefined)[0] ?? null,
    headers: Object.keys(headers ?? {}),
    ...(typeof o.timeoutMs === 'number' ? { timeoutMs: o.timeoutMs } : {}),
    ...('retry' in c ? { retry: { ...c.retry } } : {}),
    ...('pool' in c ? { pool: { ...c.pool } } : {}),
    ...(state === undefined ? {} : { state }),
    live,
  };
}

/** The keys of an auth option that are set: the kinds of credential, never their values. */
function kinds(auth: Readonly<Record<string, unknown>> | undefined): string[] {
  return auth === undefined ? [] : Object.entries(auth).filter(([, v]) => v !== undefined).map(([k]) => k);
}

function safeUrl(raw: string): string {
  try {
    const u = new URL(raw);
    return `${u.origin}${u.pathname === '/' ? '' : u.pathname}`;
  } catch {
    return '[invalid URL]';
  }
}
