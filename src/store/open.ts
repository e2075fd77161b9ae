/**
 * @module store/open
 * Turns the config's `store:` URL into a Store: `sqlite:PATH` for the embedded
 * store, `postgres://…` (or `postgresql://…`) for one shared by many processes.
 */
import { isAbsolute, resolve } from 'node:path';
import type { Clock } from '../core/clock.ts';
import { errors } from '../core/errors.ts';
import { createPostgresStore } from './postgres/store.ts';
import type { PostgresStoreOptions } from './postgres/store.ts';
import { createThreadedSqliteStore } from './sqlite/threaded.ts';
import type { Store } from './store.ts';

export interface OpenStoreOptions {
  /** Relative paths in the URL are resolved against this (the config file's directory). */
  baseDir: string;
  clock?: Clock;
}

const SQLITE_SCHEME = 'sqlite:';
const MEMORY = ':memory:';
const POSTGRES_URL = /^postgres(ql)?:\/\/./;

/**
 * `sqlite:./data/junction.db` (relative to `baseDir`), `sqlite:/abs/path.db`,
 * `sqlite::memory:`, or `postgres://user:password@host:5432/database` with
 * Junction's own parameters (see {@link postgresOptions}). Anything else throws
 * JNC_STORE_URL. Call `migrate()` next.
 */
export function openStore(url: string, opts: OpenStoreOptions): Store {
  if (POSTGRES_URL.test(url)) return createPostgresStore({ ...postgresOptions(url), clock: opts.clock });
  const path = sqlitePath(url, opts.baseDir);
  // In a worker thread: SQL, commits and fsyncs run beside HTTP and deliveries instead of stalling them.
  return createThreadedSqliteStore({ path, clock: opts.clock });
}

function sqlitePath(url: string, baseDir: string): string {
  if (!url.startsWith(SQLITE_SCHEME)) throw errors.STORE_URL.create([redact(url)]);
  const rest = url.slice(SQLITE_SCHEME.length);
  if (rest === MEMORY) return MEMORY;
  // `sqlite://host/…` would be a URL with an authority, which SQLite files do not have.
  if (rest.trim() === '' || rest.startsWith('//')) throw errors.STORE_URL.create([url]);
  return isAbsolute(rest) ? rest : resolve(baseDir, rest);
}

/**
 * Junction's parameters of a PostgreSQL URL, taken out of it; pg reads the rest
 * (`sslmode`, `application_name`…):
 * - `schema=NAME`: the tables' schema (created by migrate); default the server's `search_path`;
 * - `pool_max=N`: connections per process, `exclusive` holders included; default 10;
 * - `statement_timeout=MS`: a statement running longer fails (JNC_STORE_UNAVAILABLE); default 30000.
 */
export function postgresOptions(url: string): Pick<PostgresStoreOptions, 'url' | 'schema' | 'pool' | 'statementTimeoutMs'> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw errors.STORE_URL.create([redact(url)]);
  }
  const take = (name: string): string | undefined => {
    const value = parsed.searchParams.get(name) ?? undefined;
    parsed.searchParams.delete(name);
    return value;
  };
  const whole = (name: string, value: string | undefined, min: number): number | undefined => {
    if (value === undefined) return undefined;
    if (!/^\d+$/.test(value) || Number(value) < min) throw errors.STORE_URL.create([`${redact(url)} (${name} must be a whole number ≥ ${min})`]);
    return Number(value);
  };
  const schema = take('schema');
  const max = whole('pool_max', take('pool_max'), 1);
  const statementTimeoutMs = whole('statement_timeout', take('statement_timeout'), 0);
  return {
    url: parsed.toString(),
    ...(schema === undefined ? {} : { schema }),
    ...(max === undefined ? {} : { pool: { max } }),
    ...(statementTimeoutMs === undefined ? {} : { statementTimeoutMs }),
  };
}

/** The URL without its password, for an error message or a command's report. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password === '') return url;
    u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@');
  }
}
