/**
 * @module auth/outbound/oauth2-tokens
 * The access token of one connector: which one to send, and when to fetch a
 * new one.
 *
 * - **Shared through the store.** Every worker and every process on the store
 *   uses the token kept under one key. A process keeps a copy in memory and
 *   reads the store again only when its copy is due for renewal, so a call
 *   costs no store read.
 * - **Renewed early.** A token is renewed `refreshBeforeMs` before it expires,
 *   but never earlier than half its lifetime, so that a token living less than
 *   `refreshBeforeMs` is not fetched again on every call.
 * - **One renewal at a time**, across every process on the store. In a
 *   process the calls that find the token due all wait for the same renewal
 *   (single flight). That renewal takes the token's lock in the store
 *   (`TokenStore.update`: an advisory lock on PostgreSQL, an `exclusive` one
 *   on SQLite), reads the token again under it, and asks the token endpoint
 *   only if it is still due: a process that waited for another's renewal takes
 *   the token it stored. So nodes whose token is due together make one token
 *   request, and a rotated refresh token is never presented twice (a server
 *   that revokes the whole grant on reuse, as oidc-provider does, would
 *   otherwise lock every node out). A cheap unlocked read comes first, so a
 *   process whose copy is merely stale takes the stored token without a lock.
 * - **Renewed after a refusal.** A 401 renews the token it was sent with, once,
 *   for every call that was refused with it.
 */
import { abortError, untilAborted } from '../../core/abort.ts';
import type { Clock } from '../../core/clock.ts';
import { errors, isJunctionError } from '../../core/errors.ts';
import type { TokenRecord, TokenStore } from '../../store/store.ts';
import type { IssuedToken, TokenEndpoint } from './oauth2-endpoint.ts';

export interface TokenSourceOptions {
  /** The store key: connector name and a hash of what identifies the credentials. */
  key: string;
  tokens: TokenStore;
  endpoint: TokenEndpoint;
  clock: Clock;
  refreshBeforeMs: number;
  /** Bounds one token request. */
  timeoutMs: number;
  /** Grant refresh_token: the configured refresh token, used until the store holds a newer one. */
  initialRefreshToken?: (() => string) | undefined;
}

export class TokenSource {
  readonly #opts: TokenSourceOptions;
  #current: TokenRecord | undefined;
  #inflight: Promise<TokenRecord> | undefined;
  readonly #closed = new AbortController();

  constructor(opts: TokenSourceOptions) {
    this.#opts = opts;
  }

  /** An access token to send now; fetches one when none is fresh. */
  async accessToken(signal: AbortSignal): Promise<string> {
    const current = this.#current;
    if (current !== undefined && this.#fresh(current)) return current.accessToken;
    return (await waitFor(this.#renew(undefined), signal)).accessToken;
  }

  /**
   * `rejected` was refused by the system: makes sure the next `accessToken()` is
   * another one. Does nothing when another call has already replaced it.
   */
  async renew(rejected: string, signal: AbortSignal): Promise<void> {
    if (this.#current !== undefined && this.#current.accessToken !== rejected) return;
    let next = await waitFor(this.#renew(rejected), signal);
    // A renewal already under way when the refusal came may have settled on the refused token.
    if (next.accessToken === rejected) next = await waitFor(this.#renew(rejected), signal);
  }

  /** Aborts a token request in flight; its callers reject. */
  close(): void {
    this.#closed.abort(errors.SHUTDOWN.create());
  }

  #renew(rejected: string | undefined): Promise<TokenRecord> {
    this.#inflight ??= this.#fetch(rejected).finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  async #fetch(rejected: string | undefined): Promise<TokenRecord> {
    const { tokens, key } = this.#opts;
    // Another process may have renewed it already: then no lock is needed to take it.
    const latest = newer(this.#current, await tokens.get(key));
    if (this.#usable(latest, rejected)) return (this.#current = latest);
    let renewed: TokenRecord | undefined;
    const stored = await tokens.update(
      key,
      async (locked) => {
        // Read again under the lock: the holder before us may have just stored a fresh one.
        const newest = newer(this.#current, locked);
        if (this.#usable(newest, rejected)) {
          // Ours in memory may be newer than the stored one (a write that failed): store it then.
          return newest.obtainedAt > (locked?.obtainedAt ?? -Infinity) ? newest : undefined;
        }
        renewed = await this.#request(newest);
        return renewed;
      },
      this.#closed.signal,
    );
    const out = renewed ?? stored;
    if (out === undefined) throw new Error(`token ${key}: the store kept nothing`);
    return (this.#current = out);
  }

  /** Asks the token endpoint for a new token, with the newest refresh token known. */
  async #request(latest: TokenRecord | undefined): Promise<TokenRecord> {
    const refreshToken = this.#opts.initialRefreshToken ? (latest?.refreshToken ?? this.#opts.initialRefreshToken()) : undefined;
    const signal = AbortSignal.any([this.#closed.signal, AbortSignal.timeout(this.#opts.timeoutMs)]);
    let issued: IssuedToken;
    try {
      issued = await this.#opts.endpoint.request(refreshToken, signal);
    } catch (e) {
      const recovered = refreshToken === undefined ? undefined : await this.#takenByAnother(e, refreshToken);
      if (recovered === undefined) throw e;
      return recovered;
    }
    const now = this.#opts.clock.now();
    const record: TokenRecord = {
      accessToken: issued.accessToken,
      expiresAt: issued.expiresIn === undefined ? null : now + issued.expiresIn * 1000,
      // A server that does not rotate keeps the old refresh token valid.
      refreshToken: issued.refreshToken ?? refreshToken ?? null,
      obtainedAt: now,
    };
    // In memory at once: if the store write fails the token is still used here, and
    // a rotated refresh token is kept for the next renewal, which stores it then.
    this.#current = record;
    return record;
  }

  #usable(t: TokenRecord | undefined, rejected: string | undefined): t is TokenRecord {
    return t !== undefined && t.accessToken !== rejected && this.#fresh(t);
  }

  /**
   * After `invalid_grant` on a refresh token: another process may have used it
   * first (rotation) and stored its successor with a fresh access token.
   */
  async #takenByAnother(e: unknown, used: string): Promise<TokenRecord | undefined> {
    if (!isJunctionError(e) || e.code !== errors.OAUTH_REFUSED.code || e.details?.error !== 'invalid_grant') return undefined;
    const stored = await this.#opts.tokens.get(this.#opts.key);
    return stored !== undefined && stored.refreshToken !== used && this.#fresh(stored) ? stored : undefined;
  }

  #fresh(t: TokenRecord): boolean {
    if (t.expiresAt === null) return true;
    const lifetime = t.expiresAt - t.obtainedAt;
    const margin = Math.min(this.#opts.refreshBeforeMs, Math.max(0, lifetime) / 2);
    return this.#opts.clock.now() < t.expiresAt - margin;
  }
}

function newer(a: TokenRecord | undefined, b: TokenRecord | undefined): TokenRecord | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return b.obtainedAt > a.obtainedAt ? b : a;
}

/**
 * Settles with `promise`, or rejects when `signal` aborts: a caller may stop
 * waiting for a shared token request without cancelling it for the others.
 */
function waitFor<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    // The request is shared and may still fail; nobody here waits for it, so its failure must not go unhandled.
    promise.catch(() => {});
    return Promise.reject(abortError(signal));
  }
  return untilAborted(promise, signal, abortError);
}

/** Tokens of a connector used on its own, without a store: this process only. */
export function memoryTokens(): TokenStore {
  const map = new Map<string, TokenRecord>();
  /** The last update of each key: the next one runs after it (a lock per key). */
  const tails = new Map<string, Promise<unknown>>();
  return {
    update(key, renew, signal) {
      const run = async (): Promise<TokenRecord | undefined> => {
        signal?.throwIfAborted();
        const next = await renew(map.get(key));
        if (next !== undefined) map.set(key, next);
        return map.get(key);
      };
      const result = (tails.get(key) ?? Promise.resolve()).then(run, run);
      const tail = result.catch(() => undefined);
      tails.set(key, tail);
      void tail.then(() => {
        if (tails.get(key) === tail) tails.delete(key);
      });
      return result;
    },
    get: (key) => Promise.resolve(map.get(key)),
    set: (key, value) => {
      map.set(key, value);
      return Promise.resolve();
    },
    delete: (key) => Promise.resolve(map.delete(key)),
  };
}
