/**
 * @module store/sqlite/dead-letters
 * Dead letters are messages in state `dead`: they keep their row, body and history,
 * so a replay is an update, never a copy, and the idempotency key survives it.
 */
import { errors } from '../../core/errors.ts';
import type { DeadLetterStore } from '../store.ts';
import type { Statements } from './sql.ts';
import { int, toAttemptRecord, toDeadLetter, toDeadLetterSummary } from '../rows.ts';
import type { Row } from '../rows.ts';
import { flowOf, unique } from '../input.ts';

const DEFAULT_PAGE = 50;

/** Runs `fn` with the prepared statements and the current time; see createSqliteStore. */
export type Access = <T>(what: string, fn: (st: Statements, now: number) => T) => Promise<T>;

export interface DeadLetterDeps {
  /** Runs at once, outside any write transaction. */
  read: Access;
  /** Joins the next group commit. */
  write: Access;
}

export function createDeadLetters({ read, write }: DeadLetterDeps): DeadLetterStore {
  return {
    list(q = {}) {
      return read('list dead letters', (st) => {
        let before: { beforeDeadAt: number | null; beforeId: string | null } = { beforeDeadAt: null, beforeId: null };
        if (q.before !== undefined) {
          const anchor = st.selectDeadAt.get({ id: q.before });
          // The anchor was replayed or purged since the last page; there is no place to resume from.
          if (!anchor) throw errors.DEAD_LETTER_UNKNOWN.create([q.before]);
          before = { beforeDeadAt: int(anchor, 'dead_at'), beforeId: q.before };
        }
        const limit = Math.max(0, Math.floor(q.limit ?? DEFAULT_PAGE));
        return st.listDead.all({ flow: q.flow ?? null, limit, ...before }).map(toDeadLetterSummary);
      });
    },

    get(id) {
      return read('get a dead letter', (st) => {
        const row = st.selectDead.get({ id });
        return row ? toDeadLetter(row, st.selectHistory.all({ id }).map(toAttemptRecord)) : undefined;
      });
    },

    count(flow) {
      return read('count dead letters', (st) => int(st.countDead.get({ flow: flow ?? null }) as Row, 'n'));
    },

    replay(sel) {
      return write('replay dead letters', (st, now) => {
        if ('ids' in sel) {
          return unique(sel.ids).filter((id) => st.replayDeadById.get({ id, now }) !== undefined);
        }
        return st.replayDead
          .all({ flow: flowOf(sel), now })
          .map((row) => String(row.id))
          .sort();
      });
    },

    purge(sel) {
      return write('purge dead letters', (st) => {
        if ('ids' in sel) {
          return unique(sel.ids).reduce((n, id) => n + Number(st.purgeDeadById.run({ id }).changes), 0);
        }
        return Number(st.purgeDead.run({ flow: flowOf(sel) }).changes);
      });
    },
  };
}
