/**
 * @module auth/outbound
 * Picks the outbound credentials of a connector from its `auth` options.
 */
import type { Clock } from '../../core/clock.ts';
import type { OutboundResponse, Policy } from '../../connectors/connector.ts';
import type { AuthOptions } from '../../connectors/options.ts';
import type { KeyValue, TokenRecord } from '../../store/store.ts';
import { apiKeyAuth } from './api-key.ts';
import { basicAuth } from './basic.ts';
import { bearerAuth } from './bearer.ts';
import { oauth2Auth } from './oauth2.ts';

/** A connector's credentials: the policy that puts them on each call, and how to renew them. */
export interface OutboundAuth {
  /** Sits in the `auth` slot of the pipeline. */
  policy: Policy;
  /**
   * Renews the credentials that `res` was sent with, after the system refused
   * them. Resolves true when sending again may succeed; absent for credentials
   * that cannot be renewed. See `Connector.refreshCredentials`.
   */
  refresh?(res: OutboundResponse, signal: AbortSignal): Promise<boolean>;
  /** Stops work in flight (a token request). */
  close?(): void;
}

export interface OutboundAuthDeps {
  connector: string;
  /** The connector's `timeoutMs`: bounds a token request too. */
  timeoutMs: number;
  /** Where OAuth 2.0 tokens are shared (the store's `tokens`); default: this process only. */
  tokens?: KeyValue<TokenRecord> | undefined;
  clock?: Clock | undefined;
}

/**
 * The credentials of `auth`, or undefined when the connector has none.
 * The schema guarantees exactly one kind is set.
 */
export function outboundAuth(auth: AuthOptions | undefined, deps: OutboundAuthDeps): OutboundAuth | undefined {
  if (auth === undefined) return undefined;
  if (auth.apiKey) return { policy: apiKeyAuth(auth.apiKey) };
  if (auth.bearer) return { policy: bearerAuth(auth.bearer) };
  if (auth.basic) return { policy: basicAuth(auth.basic) };
  if (auth.oauth2) return oauth2Auth(auth.oauth2, deps);
  return undefined;
}
