/**
 * @module store/postgres/dead-letters
 * Dead letters are messages in state `dead`, as on SQLite: a replay is an update,
 * never a copy, so the idempotency key and the history survive it.
 */
import { errors } from '../../core/errors.ts';
import type { DeadLetterStore } from '../store.ts';
import type { Queryable } from './connection.ts';
import { int, text, toAttemptRecord, toDeadLetter, toDeadLetterSummary } from '../rows.ts';
import type { Row } from '../rows.ts';
import { sql } from './sql.ts';
import { flowOf, unique } from '../input.ts';

const DEFAULT_PAGE = 50;

/** Runs `fn` on the pool (each statement its own transaction) with the current time; see createPostgresStore. */
export type Access = <T>(what: string, fn: (db: Queryable, now: number) => Promise<T>) => Promise<T>;

/** @param wake called after a replay's commit, when it moved any message back to the queue */
export function createDeadLetters(run: Access, wake: () => Promise<void> = () => Promise.resolve()): DeadLetterStore {
  return {
    list(q = {}) {
      return run('list dead letters', async (db) => {
        let before: [number | null, string | null] = [null, null];
        if (q.before !== undefined) {
          const anchor = (await db.query(sql.selectDeadAt, [q.before])).rows[0];
          // The anchor was replayed or purged since the last page; there is no place to resume from.
          if (!anchor) throw errors.DEAD_LETTER_UNKNOWN.create([q.before]);
          before = [int(anchor, 'dead_at'), q.before];
        }
        const limit = Math.max(0, Math.floor(q.limit ?? DEFAULT_PAGE));
        return (await db.query(sql.listDead, [q.flow ?? null, limit, ...before])).rows.map(toDeadLetterSummary);
      });
    },

    get(id) {
      return run('get a dead letter', async (db) => {
        const row = (await db.query(sql.selectDead, [id])).rows[0];
        if (!row) return undefined;
        return toDeadLetter(row, (await db.query(sql.selectHistory, [id])).rows.map(toAttemptRecord));
      });
    },

    count(flow) {
      return run('count dead letters', async (db) => int((await db.query(sql.countDead, [flow ?? null])).rows[0] as Row, 'n'));
    },

    async replay(sel) {
      const replayed = await run('replay dead letters', async (db, now) => {
        if ('ids' in sel) {
          const ids = unique(sel.ids);
          const moved = new Set((await db.query(sql.replayDeadByIds, [now, ids])).rows.map((r) => text(r, 'id')));
          return ids.filter((id) => moved.has(id));
        }
        const { rows } = await db.query(sql.replayDead, [now, flowOf(sel)]);
        return rows.map((r) => text(r, 'id')).sort();
      });
      if (replayed.length > 0) await wake();
      return replayed;
    },

    purge(sel) {
      return run('purge dead letters', async (db) => {
        const { rowCount } = 'ids' in sel ? await db.query(sql.purgeDeadByIds, [unique(sel.ids)]) : await db.query(sql.purgeDead, [flowOf(sel)]);
        return rowCount ?? 0;
      });
    },
  };
}
