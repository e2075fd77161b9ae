/**
 * @module store/open
 * Turns the config's `store:` URL into a Store. Only `sqlite:PATH` exists so far;
 * `postgres://…` joins here when that store is written.
 */
import { isAbsolute, resolve } from 'node:path';
import type { Clock } from '../core/clock.ts';
import { errors } from '../core/errors.ts';
import { createThreadedSqliteStore } from './sqlite/threaded.ts';
import type { Store } from './store.ts';

export interface OpenStoreOptions {
  /** Relative paths in the URL are resolved against this (the config file's directory). */
  baseDir: string;
  clock?: Clock;
}

const SQLITE_SCHEME = 'sqlite:';
const MEMORY = ':memory:';

/**
 * `sqlite:./data/junction.db` (relative to `baseDir`), `sqlite:/abs/path.db`, or
 * `sqlite::memory:`. Anything else throws JNC_STORE_URL. Call `migrate()` next.
 */
export function openStore(url: string, opts: OpenStoreOptions): Store {
  const path = sqlitePath(url, opts.baseDir);
  // In a worker thread: SQL, commits and fsyncs run beside HTTP and deliveries instead of stalling them.
  return createThreadedSqliteStore({ path, clock: opts.clock });
}

function sqlitePath(url: string, baseDir: string): string {
  if (!url.startsWith(SQLITE_SCHEME)) throw errors.STORE_URL.create([url]);
  const rest = url.slice(SQLITE_SCHEME.length);
  if (rest === MEMORY) return MEMORY;
  // `sqlite://host/…` would be a URL with an authority, which SQLite files do not have.
  if (rest.trim() === '' || rest.startsWith('//')) throw errors.STORE_URL.create([url]);
  return isAbsolute(rest) ? rest : resolve(baseDir, rest);
}
