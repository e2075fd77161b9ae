/**
 * @module store/postgres/migrate
 * Applies the numbered SQL files in `store/migrations/postgres/` that the database
 * has not seen, in one transaction under a transaction-level advisory lock, so
 * that nodes starting together migrate once: the others wait for the lock, then
 * find every migration recorded in `schema_migrations`.
 */
import { errors } from '../../core/errors.ts';
import { loadMigrations } from '../sqlite/migrate.ts';
import type { Migration } from '../sqlite/migrate.ts';
import type { Queryable } from './connection.ts';
import { lockKey } from './exclusive.ts';

export const MIGRATIONS_DIR = new URL('../migrations/postgres/', import.meta.url);

const CREATE_MIGRATIONS_TABLE = `
  CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer PRIMARY KEY,
    name       text    NOT NULL,
    applied_at bigint  NOT NULL
  )`;
const SELECT_APPLIED = 'SELECT version FROM schema_migrations ORDER BY version';
const INSERT_APPLIED = 'INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)';

/** Reads the PostgreSQL migration files in order; their numbers must run 1, 2, 3… with no gap. */
export function loadPostgresMigrations(): Migration[] {
  return loadMigrations(MIGRATIONS_DIR);
}

/**
 * Brings the schema (created if missing) up to date. Resolves with the versions
 * applied; refuses a database that a newer Junction migrated.
 */
export async function migrate(tx: Queryable, schema: string | undefined, now: number, migrations: Migration[] = loadPostgresMigrations()): Promise<number[]> {
  // A migration may run long, and a node waiting for another's must not time out meanwhile.
  await tx.query('SET LOCAL statement_timeout = 0');
  await tx.query('SELECT pg_advisory_xact_lock($1::bigint)', [lockKey(schema ?? '', 'junction:migrate')]);
  if (schema !== undefined) await tx.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
  await tx.query(CREATE_MIGRATIONS_TABLE);
  const applied = new Set((await tx.query(SELECT_APPLIED)).rows.map((row) => Number(row.version)));
  const newest = Math.max(0, ...applied);
  if (newest > migrations.length) {
    // A newer Junction migrated this database; running older code on it could corrupt it.
    throw errors.STORE_UNAVAILABLE.create([`database schema version ${newest} is newer than this version of Junction knows (${migrations.length})`]);
  }
  const done: number[] = [];
  for (const m of migrations) {
    if (applied.has(m.version)) continue;
    await tx.query(m.sql);
    await tx.query(INSERT_APPLIED, [m.version, m.name, now]);
    done.push(m.version);
  }
  return done;
}

/** A schema name as an SQL identifier; the store accepts only plain names, quoted anyway. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
