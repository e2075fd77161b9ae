/**
 * @module auth/outbound
 * Picks the outbound credentials of a connector from its `auth` options, and
 * makes the policy of the pipeline's `auth` slot: inject them on every call, and
 * when the answer says they were refused (classified `refresh`, a 401), renew
 * what can be renewed once and send again, inside the call's deadline. A
 * connector made on its own (`createConnector`) refreshes the same way as one
 * a flow uses.
 */
import type { Clock } from '../../core/clock.ts';
import type { Classification, OutboundResponse, Policy } from '../../core/call.ts';
import type { Credentials } from './inject.ts';
import type { TokenStore } from '../../store/store.ts';
import { apiKeyAuth } from './api-key.ts';
import { basicAuth } from './basic.ts';
import { bearerAuth } from './bearer.ts';
import { oauth2Auth } from './oauth2.ts';
import type { AuthOptions } from './options.ts';

/** The `auth` slot of a connector's pipeline. */
export interface OutboundAuth {
  policy: Policy;
  close?(): void;
}

export interface OutboundAuthDeps {
  connector: string;
  /** The connector's `timeoutMs`: bounds a token request too. */
  timeoutMs: number;
  /** Where OAuth 2.0 tokens are shared (the store's `tokens`); default: this process only. */
  tokens?: TokenStore | undefined;
  clock?: Clock | undefined;
  /** The connector's classification: `refresh` is what makes credentials renew. */
  classify(res: OutboundResponse): Classification;
}

/**
 * The credentials of `auth`, or undefined when the connector has none.
 * The schema guarantees exactly one kind is set.
 */
export function outboundAuth(auth: AuthOptions | undefined, deps: OutboundAuthDeps): OutboundAuth | undefined {
  const credentials = credentialsOf(auth, deps);
  if (credentials === undefined) return undefined;
  const close = credentials.close?.bind(credentials);
  return { policy: refreshOnce(credentials, deps.classify), ...(close ? { close } : {}) };
}

function credentialsOf(auth: AuthOptions | undefined, deps: OutboundAuthDeps): Credentials | undefined {
  if (auth === undefined) return undefined;
  if (auth.apiKey) return { inject: apiKeyAuth(auth.apiKey) };
  if (auth.bearer) return { inject: bearerAuth(auth.bearer) };
  if (auth.basic) return { inject: basicAuth(auth.basic) };
  if (auth.oauth2) return oauth2Auth(auth.oauth2, deps);
  return undefined;
}

/**
 * Injects the credentials; after an answer classified `refresh`, renews them and
 * sends once more. Sending again is safe: the system refused the first request
 * without acting on it. A second refusal is returned as it is, and the caller
 * classifies it as final (JNC_AUTH_REFUSED).
 */
function refreshOnce(credentials: Credentials, classify: OutboundAuthDeps['classify']): Policy {
  const { refresh } = credentials;
  if (refresh === undefined) return credentials.inject;
  return function auth(next) {
    const send = credentials.inject(next);
    return async function refreshing(req, ctx) {
      const res = await send(req, ctx);
      if (classify(res) !== 'refresh') return res;
      if (!(await refresh.call(credentials, res, ctx.signal))) return res;
      // A fresh context: this second send is meant (the pipeline guards against accidental ones).
      return send(req, { ...ctx });
    };
  };
}
