/**
 * @module auth/inbound/jwks
 * Where `http.auth.jwt` finds the keys that sign tokens: the issuer's JSON Web
 * Key Set, fetched over HTTP by jose's remote key set. jose caches the set for
 * `cacheMaxAgeMs` and fetches it again when a token names a key it does not
 * hold (a rotation), at most once per `cooldownMs`, so a flood of made-up key
 * ids costs the key server one request per cooldown.
 *
 * What this module adds is the key server failing. jose would ask it again on
 * every request, and drop a set it holds as soon as the set is older than
 * `cacheMaxAgeMs` and the refetch fails. Here, a failed fetch is not retried for
 * `cooldownMs`, and the last set fetched keeps verifying tokens meanwhile; only
 * a token that needs a key the old set lacks is answered 503
 * (JNC_AUTH_KEYS_UNAVAILABLE): it may be signed with a new key we cannot fetch,
 * so it is not the caller's fault.
 */
import { createLocalJWKSet, createRemoteJWKSet, customFetch, errors as jose, type FetchImplementation, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import type { Clock } from '../../core/clock.ts';
import { errors, isJunctionError, type JunctionError } from '../../core/errors.ts';
import type { Logger } from '../../observability/logger.ts';
import { redactUrl } from '../../observability/redact.ts';

export interface KeySourceOptions {
  url: string;
  cacheMaxAgeMs: number;
  cooldownMs: number;
  timeoutMs: number;
}

export interface KeySourceDeps {
  clock: Clock;
  logger: Logger;
}

/**
 * The key lookup jose's `jwtVerify` calls with a token's header, after the
 * header's `alg` passed the allow-list (so a refused algorithm never costs a fetch).
 * @throws jose's JWKSNoMatchingKey / JWKSMultipleMatchingKeys when the set holds no single key for the token
 * @throws JNC_AUTH_KEYS_UNAVAILABLE (503) when the set cannot be fetched and no set fetched before has the key
 */
export function createKeySource(opts: KeySourceOptions, { clock, logger }: KeySourceDeps): JWTVerifyGetKey {
  const where = redactUrl(opts.url);
  let failedAt: number | undefined;
  let stale: { jwks: JSONWebKeySet; keys: ReturnType<typeof createLocalJWKSet> } | undefined;

  const unavailable = (why: string, cause?: unknown): JunctionError => {
    const waitMs = failedAt === undefined ? opts.cooldownMs : Math.max(0, failedAt + opts.cooldownMs - clock.now());
    return errors.AUTH_KEYS_UNAVAILABLE.create([`the signing keys cannot be fetched (${why}); try again later`], {
      retryAfterMs: Math.max(1000, waitMs),
      cause,
    });
  };

  const failed = (why: string, cause?: unknown): JunctionError => {
    failedAt = clock.now();
    logger.warn({ jwksUrl: where, err: cause, retryInMs: opts.cooldownMs }, `JWT signing keys: fetching the key set failed: ${why}`);
    return unavailable(why, cause);
  };

  // jose's fetch, checked here so that every way a fetch can fail is one error, and starts the wait before the next.
  const fetchKeySet: FetchImplementation = async (url, init) => {
    if (failedAt !== undefined && clock.now() - failedAt < opts.cooldownMs) throw unavailable('the last fetch failed');
    let res: Response;
    let text: string;
    try {
      res = await fetch(url, init);
      text = await res.text();
    } catch (e) {
      const timedOut = (e as Error).name === 'TimeoutError' || init.signal.aborted;
      throw failed(timedOut ? `no answer within ${opts.timeoutMs}ms` : `network error: ${(e as Error).message}`, e);
    }
    if (res.status !== 200) throw failed(`the key server answered ${res.status}`);
    try {
      const body = JSON.parse(text) as { keys?: unknown };
      if (!Array.isArray(body.keys)) throw new Error('no "keys" list');
    } catch (e) {
      throw failed(`the answer is not a JSON Web Key Set: ${(e as Error).message}`, e);
    }
    failedAt = undefined;
    return new Response(text, { status: 200, headers: { 'content-type': 'application/json' } });
  };

  const remote = createRemoteJWKSet(new URL(opts.url), {
    cacheMaxAge: opts.cacheMaxAgeMs,
    cooldownDuration: opts.cooldownMs,
    timeoutDuration: opts.timeoutMs,
    [customFetch]: fetchKeySet,
  });

  return async (header, token) => {
    try {
      return await remote(header, token);
    } catch (e) {
      if (!isJunctionError(e) || e.code !== errors.AUTH_KEYS_UNAVAILABLE.code) throw e;
      // The key server is failing: verify with the last set it gave, if any.
      const last = remote.jwks();
      if (last === undefined) throw e;
      if (stale?.jwks !== last) stale = { jwks: last, keys: createLocalJWKSet(last) };
      try {
        return await stale.keys(header, token);
      } catch (inner) {
        // A key the old set lacks may be a new one the server would give: not the caller's fault.
        if (inner instanceof jose.JWKSNoMatchingKey) throw e;
        throw inner;
      }
    }
  };
}
