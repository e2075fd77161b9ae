/**
 * @module cli/status/live
 * The live part of `junction status`: a running server's own figures over the
 * last minute (rate, error ratio, p95 per flow and per connector, circuits),
 * read from its admin API with `server.adminToken`. Each process keeps its own
 * figures, so these are those of the one server asked. When none can be had
 * (no token, no server, a refusal), the reason says why and the rest of the
 * status still prints.
 */
import type { WindowFigures } from '../../observability/live-stats.ts';
import type { Secret } from '../../core/secret.ts';

export interface LiveFlow {
  name: string;
  live: WindowFigures;
}

export interface LiveConnector {
  name: string;
  type: string;
  /** `closed`, `open`, `halfOpen`; undefined when the connector has no circuit breaker. */
  circuit: string | undefined;
  live: WindowFigures;
}

export type LiveStatus =
  | { available: true; url: string; flows: LiveFlow[]; connectors: LiveConnector[] }
  | { available: false; url: string | undefined; reason: string };

const TIMEOUT_MS = 3000;

/** The URL the server listens on, as seen from here: a wildcard host is reached on loopback. */
export function serverUrl(server: { host: string; port: number }): string {
  const host = server.host === '0.0.0.0' ? '127.0.0.1' : server.host === '::' ? '::1' : server.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${server.port}`;
}

export async function liveStatus(url: string, token: Secret | undefined): Promise<LiveStatus> {
  if (token === undefined) return { available: false, url, reason: 'server.adminToken is not set, so the admin API is off' };
  const get = async (path: string): Promise<unknown> => {
    const res = await fetch(`${url}/admin${path}`, { headers: { authorization: `Bearer ${token.reveal()}` }, signal: AbortSignal.timeout(TIMEOUT_MS) });
    if (!res.ok) {
      const problem = (await res.json().catch(() => ({}))) as { code?: string; detail?: string };
      throw new Error(`${url}/admin${path} answered ${res.status}${problem.code ? ` ${problem.code}` : ''}`);
    }
    return res.json();
  };
  try {
    const [flows, connectors] = (await Promise.all([get('/flows'), get('/connectors')])) as [
      { flows: { name: string; live: WindowFigures }[] },
      { connectors: { name: string; type: string; live: WindowFigures; state?: { policies?: { circuit?: { state?: string } } } }[] },
    ];
    return {
      available: true,
      url,
      flows: flows.flows.map((f) => ({ name: f.name, live: f.live })),
      connectors: connectors.connectors.map((c) => ({ name: c.name, type: c.type, circuit: c.state?.policies?.circuit?.state, live: c.live })),
    };
  } catch (e) {
    return { available: false, url, reason: unreachable(e, url) };
  }
}

function unreachable(e: unknown, url: string): string {
  const err = e as Error & { cause?: { code?: string; message?: string } };
  if (err.name === 'TimeoutError') return `no answer from ${url} within ${TIMEOUT_MS / 1000} s`;
  if (err.cause?.code === 'ECONNREFUSED') return `no server is listening at ${url} (junction run is not running there)`;
  // fetch says only "fetch failed"; its cause says why (a host not found, a bad port).
  return err.cause?.message ? `${url}: ${err.message}: ${err.cause.message}` : err.message;
}
