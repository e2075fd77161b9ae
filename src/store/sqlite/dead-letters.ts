/**
 * @module store/sqlite/dead-letters
 * Dead letters are messages in state `dead`: they keep their row, body and history,
 * so a replay is an update, never a copy, and the idempotency key survives it.
 * Statements that take a filter are built from its shape (store/dead-letter-filter.ts)
 * and prepared once per shape.
 */
import { errors } from '../../core/errors.ts';
import { countFilter, deadLetterWhere, filterOf, type Keyset } from '../dead-letter-filter.ts';
import type { DeadLetterFilter, DeadLetterStore } from '../store.ts';
import { REPLAY, type Statements } from './sql.ts';
import { int, toAttemptRecord, toDeadLetter, toDeadLetterSummary } from '../rows.ts';
import type { Row } from '../rows.ts';
import { filterOfSelector, unique } from '../input.ts';

const DEFAULT_PAGE = 50;

/** Runs `fn` with the prepared statements and the current time; see createSqliteStore. */
export type Access = <T>(what: string, fn: (st: Statements, now: number) => T) => Promise<T>;

export interface DeadLetterDeps {
  /** Runs at once, outside any write transaction. */
  read: Access;
  /** Joins the next group commit. */
  write: Access;
}

/** A statement's text and its named parameters. */
export interface BuiltStatement {
  text: string;
  params: Record<string, string | number>;
}

function build(f: DeadLetterFilter, shape: (where: string) => string, after?: Keyset, extra: Record<string, number> = {}): BuiltStatement {
  const params: Record<string, string | number> = { ...extra };
  let n = 0;
  const where = deadLetterWhere(
    f,
    (value) => {
      const name = `p${n++}`;
      params[name] = value;
      return `:${name}`;
    },
    after,
  );
  return { text: shape(where), params };
}

/** A page of dead letters, newest first: walks an index in its order and stops after `limit` rows. */
export function listDeadStatement(f: DeadLetterFilter, limit: number, after?: Keyset): BuiltStatement {
  return build(
    f,
    (where) => `SELECT id, flow, idempotency_key, attempts, error_code, error, dead_at FROM messages
    WHERE ${where} ORDER BY dead_at DESC, id DESC LIMIT :limit`,
    after,
    { limit },
  );
}

export function countDeadStatement(f: DeadLetterFilter): BuiltStatement {
  return build(f, (where) => `SELECT count(*) AS n FROM messages WHERE ${where}`);
}

export function createDeadLetters({ read, write }: DeadLetterDeps): DeadLetterStore {
  return {
    list(q = {}) {
      return read('list dead letters', (st) => {
        let after: Keyset | undefined;
        if (q.before !== undefined) {
          const anchor = st.selectDeadAt.get({ id: q.before });
          // The anchor was replayed or purged since the last page; there is no place to resume from.
          if (!anchor) throw errors.DEAD_LETTER_UNKNOWN.create([q.before]);
          after = { deadAt: int(anchor, 'dead_at'), id: q.before };
        }
        const limit = Math.max(0, Math.floor(q.limit ?? DEFAULT_PAGE));
        const { text, params } = listDeadStatement(filterOf(q), limit, after);
        return st.built(text).all(params).map(toDeadLetterSummary);
      });
    },

    get(id) {
      return read('get a dead letter', (st) => {
        const row = st.selectDead.get({ id });
        return row ? toDeadLetter(row, st.selectHistory.all({ id }).map(toAttemptRecord)) : undefined;
      });
    },

    count(filter) {
      return read('count dead letters', (st) => {
        const { text, params } = countDeadStatement(countFilter(filter));
        return int(st.built(text).get(params) as Row, 'n');
      });
    },

    replay(sel) {
      return write('replay dead letters', (st, now) => {
        if ('ids' in sel) {
          return unique(sel.ids).filter((id) => st.replayDeadById.get({ id, now }) !== undefined);
        }
        const { text, params } = build(filterOfSelector(sel), (where) => `UPDATE messages SET ${REPLAY} WHERE ${where} RETURNING id`, undefined, { now });
        return st
          .built(text)
          .all(params)
          .map((row) => String(row.id))
          .sort();
      });
    },

    purge(sel) {
      return write('purge dead letters', (st) => {
        if ('ids' in sel) {
          return unique(sel.ids).reduce((n, id) => n + Number(st.purgeDeadById.run({ id }).changes), 0);
        }
        // Attempts go with their message through ON DELETE CASCADE.
        const { text, params } = build(filterOfSelector(sel), (where) => `DELETE FROM messages WHERE ${where}`);
        return Number(st.built(text).run(params).changes);
      });
    },
  };
}
