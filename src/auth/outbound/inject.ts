/**
 * @module auth/outbound/inject
 * The shared shape of the outbound credentials: what every kind provides, and a
 * policy that sets one header on every request.
 */
import type { OutboundRequest, OutboundResponse, Policy } from '../../core/call.ts';

/** A kind of credentials: the policy that puts them on each call, and how to renew them. */
export interface Credentials {
  /** Injects the credentials. */
  inject: Policy;
  /**
   * Renews the credentials that `res` was sent with, after the system refused
   * them (one renewal, shared by every call refused with them). Resolves true
   * when sending again may succeed; absent for credentials that cannot be
   * renewed. Rejects with JNC_OAUTH_REFUSED, JNC_OAUTH_UNAVAILABLE or JNC_SHUTDOWN.
   */
  refresh?(res: OutboundResponse, signal: AbortSignal): Promise<boolean>;
  /** Stops work in flight (a token request). */
  close?(): void;
}

/**
 * A policy that sets `name` (lower-cased) to `value()` on every request, replacing
 * a header of the same name sent by the step: credentials are the connector's.
 * `value` is called per request so that the secret is revealed only when sent.
 */
export function headerPolicy(name: string, value: () => string): Policy {
  return (next) => (req, ctx) => next(withHeader(req, name, value()), ctx);
}

/** `req` with header `name` (lower-cased) set to `value`, any other spelling of it removed. */
export function withHeader(req: OutboundRequest, name: string, value: string): OutboundRequest {
  const key = name.toLowerCase();
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers ?? {})) if (k.toLowerCase() !== key) headers[k] = v;
  headers[key] = value;
  return { ...req, headers };
}
