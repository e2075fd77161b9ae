/**
 * @module store/postgres/dead-letters
 * Dead letters are messages in state `dead`, as on SQLite: a replay is an update,
 * never a copy, so the idempotency key and the history survive it. Statements
 * that take a filter are built from its shape (store/dead-letter-filter.ts).
 */
import { errors } from '../../core/errors.ts';
import { countFilter, deadLetterWhere, filterOf, type Keyset } from '../dead-letter-filter.ts';
import type { DeadLetterFilter, DeadLetterStore } from '../store.ts';
import type { Queryable } from './connection.ts';
import { int, text, toAttemptRecord, toDeadLetter, toDeadLetterSummary } from '../rows.ts';
import type { Row } from '../rows.ts';
import { REPLAY, sql } from './sql.ts';
import { filterOfSelector, unique } from '../input.ts';

const DEFAULT_PAGE = 50;

/** Runs `fn` on the pool (each statement its own transaction) with the current time; see createPostgresStore. */
export type Access = <T>(what: string, fn: (db: Queryable, now: number) => Promise<T>) => Promise<T>;

/** A statement's text and its positional parameters; `first` are bound before the filter's (REPLAY's $1 is now). */
function build(f: DeadLetterFilter, shape: (where: string, next: (v: string | number) => string) => string, after?: Keyset, first: (string | number)[] = []): { text: string; values: (string | number)[] } {
  const values = [...first];
  const bind = (v: string | number): string => {
    values.push(v);
    // Typed, so that a placeholder compared with a row value or a bigint column needs no guessing.
    return typeof v === 'number' ? `$${values.length}::bigint` : `$${values.length}::text`;
  };
  const where = deadLetterWhere(f, bind, after);
  return { text: shape(where, bind), values };
}

/** A page of dead letters, newest first: walks an index in its order and stops after `limit` rows. */
export function listDeadStatement(f: DeadLetterFilter, limit: number, after?: Keyset): { text: string; values: (string | number)[] } {
  return build(f, (where, bind) => `SELECT id, flow, idempotency_key, attempts, error_code, error, dead_at FROM messages
    WHERE ${where} ORDER BY dead_at DESC, id DESC LIMIT ${bind(limit)}`, after);
}

/** @param wake called after a replay's commit, when it moved any message back to the queue */
export function createDeadLetters(run: Access, wake: () => Promise<void> = () => Promise.resolve()): DeadLetterStore {
  return {
    list(q = {}) {
      return run('list dead letters', async (db) => {
        let after: Keyset | undefined;
        if (q.before !== undefined) {
          const anchor = (await db.query(sql.selectDeadAt, [q.before])).rows[0];
          // The anchor was replayed or purged since the last page; there is no place to resume from.
          if (!anchor) throw errors.DEAD_LETTER_UNKNOWN.create([q.before]);
          after = { deadAt: int(anchor, 'dead_at'), id: q.before };
        }
        const limit = Math.max(0, Math.floor(q.limit ?? DEFAULT_PAGE));
        const stmt = listDeadStatement(filterOf(q), limit, after);
        return (await db.query(stmt.text, stmt.values)).rows.map(toDeadLetterSummary);
      });
    },

    get(id) {
      return run('get a dead letter', async (db) => {
        const row = (await db.query(sql.selectDead, [id])).rows[0];
        if (!row) return undefined;
        return toDeadLetter(row, (await db.query(sql.selectHistory, [id])).rows.map(toAttemptRecord));
      });
    },

    count(filter) {
      return run('count dead letters', async (db) => {
        const stmt = build(countFilter(filter), (where) => `SELECT count(*) AS n FROM messages WHERE ${where}`);
        return int((await db.query(stmt.text, stmt.values)).rows[0] as Row, 'n');
      });
    },

    async replay(sel) {
      const replayed = await run('replay dead letters', async (db, now) => {
        if ('ids' in sel) {
          const ids = unique(sel.ids);
          const moved = new Set((await db.query(sql.replayDeadByIds, [now, ids])).rows.map((r) => text(r, 'id')));
          return ids.filter((id) => moved.has(id));
        }
        const stmt = build(filterOfSelector(sel), (where) => `UPDATE messages SET ${REPLAY} WHERE ${where} RETURNING id`, undefined, [now]);
        const { rows } = await db.query(stmt.text, stmt.values);
        return rows.map((r) => text(r, 'id')).sort();
      });
      if (replayed.length > 0) await wake();
      return replayed;
    },

    purge(sel) {
      return run('purge dead letters', async (db) => {
        if ('ids' in sel) return (await db.query(sql.purgeDeadByIds, [unique(sel.ids)])).rowCount ?? 0;
        // Attempts go with their message through ON DELETE CASCADE.
        const stmt = build(filterOfSelector(sel), (where) => `DELETE FROM messages WHERE ${where}`);
        return (await db.query(stmt.text, stmt.values)).rowCount ?? 0;
      });
    },
  };
}
