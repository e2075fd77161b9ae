/**
 * @module auth/outbound/oauth2
 * OAuth 2.0 credentials for a connector: `Authorization: Bearer <access token>`
 * on every call, the token obtained from the token endpoint with the client
 * credentials or refresh token grant (oauth4webapi), kept in the store and
 * renewed shortly before it expires (auth/outbound/oauth2-tokens).
 *
 * When the system refuses a token anyway (401: revoked, or the server's clock
 * disagrees), `refresh` renews the token that call was sent with, and the auth
 * policy sends once more (auth/outbound/index).
 *
 * Tokens are secrets: they are never logged, and a refused call's answer has
 * the token cut out before it can reach a dead letter (a server may echo it).
 */
import { createHash } from 'node:crypto';
import type { Clock } from '../../core/clock.ts';
import { systemClock } from '../../core/clock.ts';
import { REDACTED } from '../../core/secret.ts';
import type { OutboundResponse } from '../../core/call.ts';
import type { TokenStore } from '../../store/store.ts';
import { withHeader } from './inject.ts';
import type { Credentials } from './inject.ts';
import type { OAuth2Options } from './options.ts';
import { createTokenEndpoint, type TokenEndpoint } from './oauth2-endpoint.ts';
import { memoryTokens, TokenSource } from './oauth2-tokens.ts';

export interface OAuth2Deps {
  connector: string;
  /** Where tokens are shared; default: this process only. */
  tokens?: TokenStore | undefined;
  clock?: Clock | undefined;
  /** Bounds one token request: the connector's `timeoutMs`. */
  timeoutMs: number;
  /** Tests: another way to reach the token endpoint. */
  endpoint?: TokenEndpoint;
}

export function oauth2Auth(opts: OAuth2Options, deps: OAuth2Deps): Credentials {
  const clock = deps.clock ?? systemClock;
  const refreshSecret = opts.grant === 'refresh_token' ? opts.refreshToken : undefined;
  const source = new TokenSource({
    key: tokenKey(deps.connector, opts),
    tokens: deps.tokens ?? memoryTokens(),
    endpoint: deps.endpoint ?? createTokenEndpoint(deps.connector, opts, () => clock.now()),
    clock,
    refreshBeforeMs: opts.refreshBeforeMs,
    timeoutMs: deps.timeoutMs,
    initialRefreshToken: refreshSecret ? () => refreshSecret.reveal() : undefined,
  });
  // Which token each answer was sent with, so that a refusal renews that one only.
  const sentWith = new WeakMap<OutboundResponse, string>();

  return {
    inject: (next) => async (req, ctx) => {
      const token = await source.accessToken(ctx.signal);
      const res = await next(withHeader(req, 'authorization', `Bearer ${token}`), ctx);
      const out = res.status < 300 ? res : withoutToken(res, token);
      sentWith.set(out, token);
      return out;
    },
    async refresh(res, signal) {
      const token = sentWith.get(res);
      // Not sent by this policy (a cached answer): there is nothing to renew.
      if (token === undefined) return false;
      await source.renew(token, signal);
      return true;
    },
    close: () => source.close(),
  };
}

/**
 * `connector:hash`. The hash covers what decides which token the server issues,
 * so a config change starts afresh instead of reusing a token for other
 * credentials; the client secret is left out (a rotated secret keeps the
 * token). The configured refresh token is in it, hashed, so that a new one set
 * by the operator wins over the rotated one stored (read once, at start).
 */
export function tokenKey(connector: string, opts: OAuth2Options): string {
  const identity = [opts.tokenUrl, opts.clientId, opts.scope ?? '', opts.audience ?? '', opts.resource ?? '', opts.grant];
  if (opts.grant === 'refresh_token' && opts.refreshToken) identity.push(sha256(opts.refreshToken.reveal()));
  return `${connector}:${sha256(JSON.stringify(identity)).slice(0, 32)}`;
}

function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

/** The answer with every copy of `token` in its body and headers replaced; itself when there is none. */
function withoutToken(res: OutboundResponse, token: string): OutboundResponse {
  const inBody = res.body.includes(token);
  const inHeaders = Object.values(res.headers).some((v) => v.includes(token));
  if (!inBody && !inHeaders) return res;
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(res.headers)) headers[k] = v.replaceAll(token, REDACTED);
  const body = inBody ? Buffer.from(res.body.toString('latin1').replaceAll(token, REDACTED), 'latin1') : res.body;
  return { ...res, headers, body };
}
