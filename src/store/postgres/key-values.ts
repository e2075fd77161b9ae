/**
 * @module store/postgres/key-values
 * The `tokens` and `checkpoints` members of the PostgreSQL store: one row per key,
 * each call one statement (its own transaction), an upsert for `set`, so two nodes
 * setting one key at once leave one value or the other, whole. {@link saveCheckpoint}
 * is also what `enqueue` runs inside its own transaction.
 */
import { errors } from '../../core/errors.ts';
import type { Json } from '../../core/message.ts';
import type { Checkpoint, KeyValue, TokenRecord, TokenStore } from '../store.ts';
import type { Queryable } from './connection.ts';
import type { Access } from './dead-letters.ts';
import { text, toJsonText, toTokenRecord } from '../rows.ts';
import { sql } from './sql.ts';

/**
 * @param runLocked runs `fn` in one transaction, never repeated (it makes a token request)
 * @param lockOf the advisory lock key of a token key, in the store's namespace
 */
export function createTokens(run: Access, runLocked: Access, lockOf: (key: string) => string): TokenStore {
  return {
    async update(key, renew, signal) {
      // What renew threw is the caller's, passed through as it is rather than as a store error.
      let thrown: { e: unknown } | undefined;
      const renewing = async (current: TokenRecord | undefined): Promise<TokenRecord | undefined> => {
        try {
          return await renew(current);
        } catch (e) {
          thrown = { e };
          throw e;
        }
      };
      // A transaction-level advisory lock rather than FOR UPDATE: it holds for a key that has no row yet.
      // The lock is released by COMMIT or ROLLBACK, and with the session if this node dies meanwhile.
      try {
        return await runLocked(`renew token ${key}`, async (tx, now) => {
          signal?.throwIfAborted();
          // The wait may outlast a statement timeout meant for queries; the token request bounds itself.
          await tx.query('SET LOCAL statement_timeout = 0');
          await tx.query(sql.lockXact, [lockOf(key)]);
          signal?.throwIfAborted();
          const row = (await tx.query(sql.selectToken, [key])).rows[0];
          const current = row ? toTokenRecord(row) : undefined;
          const next = await renewing(current);
          if (next === undefined) return current;
          await tx.query(sql.upsertToken, [key, next.accessToken, next.expiresAt, next.refreshToken, next.obtainedAt, now]);
          return next;
        });
      } catch (e) {
        throw thrown === undefined ? e : thrown.e;
      }
    },

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
