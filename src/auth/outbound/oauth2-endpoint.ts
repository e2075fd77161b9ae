/**
 * @module auth/outbound/oauth2-endpoint
 * One request to an OAuth 2.0 token endpoint (RFC 6749 §4.4 client credentials,
 * §6 refresh token) through oauth4webapi, without discovery: the endpoint is
 * the configured `tokenUrl`. Whatever goes wrong becomes one of two errors:
 *
 * - JNC_OAUTH_REFUSED (permanent): the server refused (`invalid_client`,
 *   `invalid_grant`, …) or answered something that is not a token response;
 *   asking again would get the same answer.
 * - JNC_OAUTH_UNAVAILABLE (transient): a network error, a timeout, 408, 429
 *   or 5xx; the server may answer next time.
 *
 * Neither carries the client secret, a token, or oauth4webapi's own error as a
 * cause (some of those hold the response body, tokens included).
 */
import * as oauth from 'oauth4webapi';
import { abortError } from '../../core/abort.ts';
import { errors, isJunctionError, type JunctionError } from '../../core/errors.ts';
import { USER_AGENT } from '../../core/call.ts';
import { isRecord } from '../../core/record.ts';
import type { OAuth2Options } from './options.ts';
import { defaultClassify } from '../../policies/classify.ts';
import { parseRetryAfter } from '../../policies/backoff.ts';

/** What a token endpoint issued. */
export interface IssuedToken {
  accessToken: string;
  /** Seconds, as the server said; undefined when it did not. */
  expiresIn: number | undefined;
  /** A new refresh token (rotation), or undefined when the server keeps the old one valid. */
  refreshToken: string | undefined;
}

export interface TokenEndpoint {
  /**
   * Asks for a token: with the client credentials grant when `refreshToken` is
   * undefined, else with the refresh token grant. Rejects with JNC_OAUTH_REFUSED,
   * JNC_OAUTH_UNAVAILABLE, or the reason of `signal` when it is a JunctionError.
   */
  request(refreshToken: string | undefined, signal: AbortSignal): Promise<IssuedToken>;
}

type EndpointOptions = Pick<OAuth2Options, 'tokenUrl' | 'clientId' | 'clientSecret' | 'authMethod' | 'scope' | 'audience' | 'resource'>;

/** Server errors that say "try later" whatever the status code. */
const TRANSIENT_OAUTH_ERRORS = new Set(['temporarily_unavailable', 'server_error']);

export function createTokenEndpoint(connector: string, opts: EndpointOptions, now: () => number = Date.now): TokenEndpoint {
  const url = new URL(opts.tokenUrl);
  // Discovery-less: only the token endpoint is used. The issuer would matter only
  // for an ID token, which Junction drops unread (see withoutIdToken).
  const as: oauth.AuthorizationServer = { issuer: url.origin, token_endpoint: url.href };
  const client: oauth.Client = { client_id: opts.clientId };
  const params = new URLSearchParams();
  if (opts.scope !== undefined) params.set('scope', opts.scope);
  if (opts.audience !== undefined) params.set('audience', opts.audience);
  if (opts.resource !== undefined) params.set('resource', opts.resource);

  return {
    async request(refreshToken, signal) {
      // Revealed per request, so that a secret read from a rotated file is current.
      const secret = opts.clientSecret.reveal();
      const auth = opts.authMethod === 'client_secret_post' ? oauth.ClientSecretPost(secret) : oauth.ClientSecretBasic(secret);
      const options = {
        signal,
        headers: { 'user-agent': USER_AGENT },
        [oauth.customFetch]: withoutIdToken,
        // The schema allows plain http only on loopback (a local or test server).
        [oauth.allowInsecureRequests]: url.protocol === 'http:',
      };
      try {
        const answer =
          refreshToken === undefined
            ? await oauth.processClientCredentialsResponse(as, client, await oauth.clientCredentialsGrantRequest(as, client, auth, params, options))
            : await oauth.processRefreshTokenResponse(
                as,
                client,
                await oauth.refreshTokenGrantRequest(as, client, auth, refreshToken, { ...options, additionalParameters: params }),
              );
        // DPoP-bound tokens would need a proof on every call, which Junction does not make.
        if (answer.token_type !== 'bearer') throw refused(connector, `token_type ${answer.token_type} is not supported; Junction sends Bearer tokens`, {});
        return { accessToken: answer.access_token, expiresIn: answer.expires_in, refreshToken: answer.refresh_token };
      } catch (e) {
        throw tokenEndpointError(connector, e, signal, now());
      }
    },
  };
}

/**
 * fetch, minus the `id_token` of a token response. Junction never uses an ID
 * token, but oauth4webapi checks one against the issuer, which a discovery-less
 * client does not know (a refresh of a token granted with `openid` returns one).
 */
async function withoutIdToken(input: string, init: oauth.CustomFetchOptions<'POST', URLSearchParams>): Promise<Response> {
  const res = await fetch(input, init);
  if (!res.ok || !(res.headers.get('content-type') ?? '').includes('json')) return res;
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return new Response(text, { status: res.status, headers: res.headers });
  }
  if (isRecord(body) && 'id_token' in body) delete body.id_token;
  return new Response(JSON.stringify(body), { status: res.status, headers: res.headers });
}

/** Classifies what the request or oauth4webapi threw; see the module's TSDoc. */
export function tokenEndpointError(connector: string, e: unknown, signal: AbortSignal, now: number): JunctionError {
  if (isJunctionError(e)) return e;
  if (signal.aborted) {
    // The request's own AbortSignal.timeout: the endpoint is slow, which is not a shutdown.
    const reason: unknown = signal.reason;
    if (reason instanceof DOMException && reason.name === 'TimeoutError') return unavailable(connector, 'no answer in time', {});
    return abortError(signal, e);
  }
  if (e instanceof oauth.ResponseBodyError) {
    return fromOAuthError(connector, e.status, e.error, e.error_description, e.response.headers, now);
  }
  if (e instanceof oauth.WWWAuthenticateChallengeError) {
    const params = e.cause[0]?.parameters;
    return fromOAuthError(connector, e.status, params?.error ?? 'invalid_client', params?.error_description, e.response.headers, now);
  }
  if (e instanceof oauth.OperationProcessingError) {
    // An answer that is not OAuth JSON (an HTML error page, a 404): its status says which kind of failure.
    const res = e.cause instanceof Response ? e.cause : undefined;
    if (res !== undefined && res.status !== 200) {
      if (transientStatus(res.status)) return unavailable(connector, `answered ${res.status}`, { status: res.status }, retryAfter(res.headers, now));
      return refused(connector, `answered ${res.status}, not a token response`, { status: res.status });
    }
    return refused(connector, `the answer is not a usable token response: ${e.message}`, {});
  }
  if (e instanceof oauth.UnsupportedOperationError) return refused(connector, e.message, {});
  // fetch rejects with a TypeError whose cause names the socket error (ECONNREFUSED…).
  const cause = e instanceof Error && e.cause instanceof Error ? e.cause : e;
  const code = (cause as { code?: unknown } | null)?.code;
  const text = cause instanceof Error ? cause.message : String(cause);
  return errors.OAUTH_UNAVAILABLE.create([connector, typeof code === 'string' && !text.includes(code) ? `${code} ${text}` : text], {
    cause: e,
    details: {},
  });
}

function fromOAuthError(
  connector: string,
  status: number,
  error: string,
  description: string | undefined,
  headers: Headers,
  now: number,
): JunctionError {
  const what = description ? `${error} (${description})` : error;
  const details = { status, error, ...(description === undefined ? {} : { error_description: description }) };
  if (transientStatus(status) || TRANSIENT_OAUTH_ERRORS.has(error)) return unavailable(connector, `${status} ${what}`, details, retryAfter(headers, now));
  return refused(connector, what, details);
}

/** The classification table says which statuses are worth another try, for a token endpoint as for any other. */
function transientStatus(status: number): boolean {
  return defaultClassify(status) === 'retry';
}

function retryAfter(headers: Headers, now: number): number | undefined {
  return parseRetryAfter(headers.get('retry-after') ?? undefined, now);
}

function refused(connector: string, what: string, details: Record<string, unknown>): JunctionError {
  return errors.OAUTH_REFUSED.create([connector, what], { details });
}

function unavailable(connector: string, what: string, details: Record<string, unknown>, retryAfterMs?: number): JunctionError {
  return errors.OAUTH_UNAVAILABLE.create([connector, what], { details, retryAfterMs });
}
