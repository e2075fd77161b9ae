/**
 * @module store/postgres/connection
 * The pool every member of the PostgreSQL store queries through, and the one way to
 * run a transaction on it. Every pooled connection starts with the store's
 * `search_path` and statement timeout (startup parameters: no extra round trip).
 */
import pg from 'pg';
import type { Row } from '../rows.ts';

export interface QueryResult {
  rows: Row[];
  rowCount: number | null;
}

/** What the store's operations need of a pool or a client in a transaction. */
export interface Queryable {
  query(text: string, values?: unknown[]): Promise<QueryResult>;
}

export interface PoolSettings {
  url: string;
  /** Set as `search_path` on every connection; validated by the store. */
  schema: string | undefined;
  max: number;
  statementTimeoutMs: number;
  connectionTimeoutMs: number;
}

export function createPool(s: PoolSettings): pg.Pool {
  const pool = new pg.Pool({
    connectionString: s.url,
    max: s.max,
    // Startup parameters; a parameter given in the URL wins over these (pg's own rule).
    statement_timeout: s.statementTimeoutMs,
    application_name: 'junction',
    ...(s.schema === undefined ? {} : { options: `-c search_path=${s.schema}` }),
    connectionTimeoutMillis: s.connectionTimeoutMs,
    keepAlive: true,
  });
  // An idle connection that breaks (the server restarted) is dropped by the pool and
  // replaced on next use; without a listener, the 'error' event would end the process.
  pool.on('error', () => undefined);
  // A client handed out by pool.connect() has no listener of the pool's until the caller's
  // continuation adds its own, a microtask later. The server's last words can arrive in that
  // window, in the same packet as its ReadyForQuery (a server shutting down accepts a
  // connection, then terminates it): an 'error' then would end the process. Every client
  // keeps this one; a broken connection is still found by the query that fails on it.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

/**
 * Runs `fn` on one checked-out client. A client whose connection broke meanwhile
 * is destroyed instead of going back to the pool.
 */
export async function withClient<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  // A checked-out client has no listener of the pool's: a broken connection must not be an uncaught 'error'.
  const onError = (e: Error): void => {
    broken = e;
  };
  client.on('error', onError);
  try {
    return await fn(client);
  } catch (e) {
    // A failed statement leaves the connection usable; a lost one is not returned to the pool.
    if (isConnectionLost(e)) broken ??= e as Error;
    throw e;
  } finally {
    client.off('error', onError);
    client.release(broken ?? false);
  }
}

/** SQLSTATEs for which the whole transaction is safe to run again: it was rolled back and wrote nothing. */
const RETRYABLE = new Set(['40001', '40P01']);
const ATTEMPTS = 3;

/**
 * Runs `fn` inside BEGIN … COMMIT and resolves after COMMIT. Whatever `fn` throws
 * rolls everything back. A deadlock or serialization failure runs it again, up to
 * three times in all, so `fn` must do nothing outside the database that it cannot
 * repeat; `attempts: 1` for one that does (a token request).
 */
export async function transaction<T>(pool: pg.Pool, fn: (tx: Queryable) => Promise<T>, opts: { attempts?: number } = {}): Promise<T> {
  const attempts = opts.attempts ?? ATTEMPTS;
  for (let attempt = 1; ; attempt++) {
    try {
      return await withClient(pool, async (client) => {
        await client.query('BEGIN');
        try {
          const out = await fn(client);
          await client.query('COMMIT');
          return out;
        } catch (e) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw e;
        }
      });
    } catch (e) {
      if (attempt >= attempts || !RETRYABLE.has(sqlState(e) ?? '')) throw e;
    }
  }
}

/** The SQLSTATE of a server error, if `e` is one. */
export function sqlState(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** The connection itself failed (not a statement on it): a network error, or the server going away. */
export function isConnectionLost(e: unknown): boolean {
  const state = sqlState(e);
  if (state !== undefined) return state.startsWith('08') || state === '57P01' || state === '57P02' || state === '57P03';
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code.startsWith('E')) return true; // ECONNREFUSED, ECONNRESET, ETIMEDOUT…
  const message = e instanceof Error ? e.message : '';
  return /Connection terminated|connection timeout|Client has encountered a connection error/i.test(message);
}

/** `host:port/database` of a URL, never its user or password: what errors name. */
export function describeServer(url: string): string {
  try {
    const u = new URL(url);
    const host = u.hostname === '' ? (u.searchParams.get('host') ?? 'localhost') : u.hostname;
    const database = decodeURIComponent(u.pathname.replace(/^\//, ''));
    return `${host}:${u.port === '' ? '5432' : u.port}${database === '' ? '' : `/${database}`}`;
  } catch {
    return 'an unparsable URL';
  }
}
