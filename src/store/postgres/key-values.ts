/**
 * @module store/postgres/key-values
 * The `tokens` and `checkpoints` members of the PostgreSQL store: one row per key,
 * each call one statement (its own transaction), an upsert for `set`, so two nodes
 * setting one key at once leave one value or the other, whole. {@link saveCheckpoint}
 * is also what `enqueue` runs inside its own transaction.
 */
import { errors } from '../../core/errors.ts';
import type { Json } from '../../core/message.ts';
import type { Checkpoint, KeyValue, TokenRecord } from '../store.ts';
import type { Queryable } from './connection.ts';
import type { Access } from './dead-letters.ts';
import { text, toJsonText, toTokenRecord } from '../rows.ts';
import { sql } from './sql.ts';

export function createTokens(run: Access): KeyValue<TokenRecord> {
  return {
    get(key) {
      // The key is named in errors, never the value: it holds no secret.
      return run(`read token ${key}`, async (db) => {
        const row = (await db.query(sql.selectToken, [key])).rows[0];
        return row ? toTokenRecord(row) : undefined;
      });
    },

    set(key, value) {
      return run(`write token ${key}`, async (db, now) => {
        await db.query(sql.upsertToken, [key, value.accessToken, value.expiresAt, value.refreshToken, value.obtainedAt, now]);
      });
    },

    delete(key) {
      return run(`delete token ${key}`, async (db) => ((await db.query(sql.deleteToken, [key])).rowCount ?? 0) > 0);
    },
  };
}

/** Checks and serialises a checkpoint before any transaction starts: a value that is not JSON writes nothing. */
export function prepareCheckpoint(checkpoint: Checkpoint): [key: string, value: string] {
  if (typeof checkpoint.key !== 'string' || checkpoint.key === '' || checkpoint.key.includes('\u0000')) {
    throw errors.INPUT_INVALID.create(['a checkpoint key must be a non-empty string without U+0000']);
  }
  return [checkpoint.key, toJsonText(checkpoint.value, `checkpoint ${JSON.stringify(checkpoint.key)}`)];
}

/** Creates or replaces the checkpoint; the caller supplies the transaction (or none). */
export async function saveCheckpoint(db: Queryable, [key, value]: [string, string], now: number): Promise<void> {
  await db.query(sql.upsertCheckpoint, [key, value, now]);
}

export function createCheckpoints(run: Access): KeyValue<Json> {
  return {
    get(key) {
      return run(`read checkpoint ${key}`, async (db) => {
        const row = (await db.query(sql.selectCheckpoint, [key])).rows[0];
        return row ? (JSON.parse(text(row, 'value')) as Json) : undefined;
      });
    },

    set(key, value) {
      return run(`write checkpoint ${key}`, async (db, now) => saveCheckpoint(db, prepareCheckpoint({ key, value }), now));
    },

    delete(key) {
      return run(`delete checkpoint ${key}`, async (db) => ((await db.query(sql.deleteCheckpoint, [key])).rowCount ?? 0) > 0);
    },
  };
}
