/**
 * @module store/sqlite/connection
 * Opens the database file with the settings the queue's guarantees rest on.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { errors } from '../../core/errors.ts';

export interface ConnectionOptions {
  /** A file path, or `:memory:`. */
  path: string;
  /** `full` (default) survives power loss; `normal` may lose the last commits then, never corrupts. */
  synchronous: 'full' | 'normal';
  /** How long to wait for another connection's write lock before giving up. */
  busyTimeoutMs: number;
}

export const MEMORY_PATH = ':memory:';

export function openDatabase(opts: ConnectionOptions): DatabaseSync {
  let db: DatabaseSync;
  try {
    if (opts.path !== MEMORY_PATH) mkdirSync(dirname(opts.path), { recursive: true });
    db = new DatabaseSync(opts.path, { enableForeignKeyConstraints: true, timeout: opts.busyTimeoutMs });
  } catch (cause) {
    throw errors.STORE_UNAVAILABLE.create([`cannot open ${opts.path}`], { cause });
  }
  try {
    // WAL lets readers run beside the single writer, and a commit is one append plus one fsync.
    if (opts.path !== MEMORY_PATH) {
      const row = db.prepare('PRAGMA journal_mode = WAL').get();
      if (row?.journal_mode !== 'wal') throw new Error(`journal_mode is ${String(row?.journal_mode)}, not wal`);
    }
    db.exec(`PRAGMA synchronous = ${opts.synchronous === 'normal' ? 'NORMAL' : 'FULL'}`);
    db.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.floor(opts.busyTimeoutMs))}`);
    db.exec('PRAGMA foreign_keys = ON');
  } catch (cause) {
    db.close();
    throw errors.STORE_UNAVAILABLE.create([`cannot configure ${opts.path}`], { cause });
  }
  return db;
}
