/**
 * @module store/sqlite/migrate
 * Applies the numbered SQL files in `store/migrations/sqlite/` that the database has
 * not seen, and records each in `schema_migrations`. The files are append-only and
 * plain SQL, so an operator can read or apply them by hand.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { DatabaseSync } from 'node:sqlite';
import { errors } from '../../core/errors.ts';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

const MIGRATIONS_DIR = new URL('../migrations/sqlite/', import.meta.url);
const FILE_NAME = /^(\d{4})_([a-z0-9_]+)\.sql$/;

const CREATE_MIGRATIONS_TABLE = `
  CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL,
    applied_at INTEGER NOT NULL
  ) STRICT`;
const SELECT_APPLIED = 'SELECT version FROM schema_migrations ORDER BY version';
const INSERT_APPLIED = 'INSERT INTO schema_migrations (version, name, applied_at) VALUES (:version, :name, :appliedAt)';

/** Reads the migration files in order; their numbers must run 1, 2, 3… with no gap. */
export function loadMigrations(dir: URL = MIGRATIONS_DIR): Migration[] {
  const migrations = readdirSync(dir)
    .flatMap((file) => {
      const match = FILE_NAME.exec(file);
      if (!match?.[1] || !match[2]) return [];
      return [{ version: Number(match[1]), name: match[2], sql: readFileSync(new URL(file, dir), 'utf8') }];
    })
    .sort((a, b) => a.version - b.version);
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migration ${m.version}_${m.name} is out of sequence: expected ${i + 1}`);
  });
  return migrations;
}

/**
 * Brings the schema up to date in one immediate transaction, so two processes
 * starting together do not both apply a migration. Resolves with the versions applied.
 */
export function migrate(db: DatabaseSync, now: number, migrations: Migration[] = loadMigrations()): number[] {
  db.exec('BEGIN IMMEDIATE');
  try {
    db.exec(CREATE_MIGRATIONS_TABLE);
    const applied = new Set(db.prepare(SELECT_APPLIED).all().map((row) => Number(row.version)));
    const newest = Math.max(0, ...applied);
    const known = migrations.length;
    if (newest > known) {
      // A newer Junction migrated this file; running older code on it could corrupt it.
      throw errors.STORE_UNAVAILABLE.create([`database schema version ${newest} is newer than this version of Junction knows (${known})`]);
    }
    const insert = db.prepare(INSERT_APPLIED);
    const done: number[] = [];
    for (const m of migrations) {
      if (applied.has(m.version)) continue;
      db.exec(m.sql);
      insert.run({ version: m.version, name: m.name, appliedAt: now });
      done.push(m.version);
    }
    db.exec('COMMIT');
    return done;
  } catch (e) {
    if (db.isTransaction) db.exec('ROLLBACK');
    throw e;
  }
}
