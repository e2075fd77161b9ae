/**
 * @module connectors/transport
 * The terminal call of every HTTP connector: one undici `Pool` per connector, to
 * the origin of its base URL, with keep-alive. It reads the whole answer into a
 * Buffer and resolves with any HTTP status; only a failure to get an answer
 * rejects (see {@link transportError}).
 */
import { Pool } from 'undici';
import { USER_AGENT, type OutboundResponse } from '../core/call.ts';
import type { Transport } from './connector.ts';
import type { HttpConnectorOptions } from './options.ts';
import { transportError, type TransportLimits } from './transport-error.ts';

/** What the transport needs from a connector's options; shared by every HTTP connector type. */
export type TransportOptions = { baseUrl: string } & Pick<
  HttpConnectorOptions,
  'headers' | 'timeoutMs' | 'connectTimeoutMs' | 'headersTimeoutMs' | 'bodyTimeoutMs' | 'maxResponseBytes' | 'pool'
>;

export function createTransport(connector: string, options: TransportOptions): Transport {
  const base = new URL(options.baseUrl);
  const prefix = base.pathname.replace(/\/+$/, '');
  const limits: TransportLimits = {
    connectTimeoutMs: options.connectTimeoutMs ?? options.timeoutMs,
    headersTimeoutMs: options.headersTimeoutMs ?? options.timeoutMs,
    bodyTimeoutMs: options.bodyTimeoutMs ?? options.timeoutMs,
    maxResponseBytes: options.maxResponseBytes,
  };
  const keepAlive = options.pool.keepAliveMs > 0;
  const pool = new Pool(base.origin, {
    connections: options.pool.connections,
    pipelining: options.pool.pipelining,
    connectTimeout: limits.connectTimeoutMs,
    headersTimeout: limits.headersTimeoutMs,
    bodyTimeout: limits.bodyTimeoutMs,
    // undici checks the size as bytes arrive, and drops the socket at once.
    maxResponseSize: limits.maxResponseBytes,
    // The server's Keep-Alive hint may shorten the idle time, never lengthen it.
    ...(keepAlive ? { keepAliveTimeout: options.pool.keepAliveMs, keepAliveMaxTimeout: options.pool.keepAliveMs } : {}),
  });
  const staticHeaders = lowerCaseKeys(options.headers);
  let closing: Promise<void> | undefined;

  const call: Transport['call'] = async (req, ctx) => {
    const started = performance.now();
    if (ctx.signal.aborted) throw transportError(connector, ctx.signal.reason, ctx.signal, limits);
    const headers: Record<string, string> = { 'user-agent': USER_AGENT, ...staticHeaders, ...lowerCaseKeys(req.headers) };
    if (req.idempotencyKey !== undefined) headers['idempotency-key'] = req.idempotencyKey;
    try {
      const res = await pool.request({
        path: joinPath(prefix, req.path),
        method: req.method,
        headers,
        body: req.body ?? null,
        signal: ctx.signal,
        // keepAliveMs 0: one socket per call.
        ...(keepAlive ? {} : { reset: true }),
      });
      const body = Buffer.from(await res.body.arrayBuffer());
      const out: OutboundResponse = { status: res.statusCode, headers: flattenHeaders(res.headers), body, durationMs: performance.now() - started };
      return out;
    } catch (e) {
      throw transportError(connector, e, ctx.signal, limits);
    }
  };

  return {
    call,
    close() {
      closing ??= pool.close();
      return closing;
    },
  };
}

/**
 * Joins the base URL's path prefix and a request path: `/api` + `orders` or
 * `/orders` gives `/api/orders`; an empty path gives the prefix itself (or `/`);
 * a path that is only a query string (`?page=2`) is appended to the prefix.
 */
export function joinPath(prefix: string, path: string): string {
  const p = prefix.replace(/\/+$/, '');
  if (path === '' || path.startsWith('?')) return (p === '' ? '/' : p) + path;
  return p + (path.startsWith('/') ? path : `/${path}`);
}

function lowerCaseKeys(headers: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (headers) for (const [k, v] of Object.entries(headers)) out[k.toLowerCase()] = v;
  return out;
}

/** undici already lower-cases names; repeated headers are joined with ", " (RFC 9110 §5.3). */
function flattenHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) continue;
    out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}
