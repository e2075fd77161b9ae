/**
 * @module store/sqlite/group-commit
 * Group commit: writes that arrive in the same turn of the event loop share one
 * transaction, so one fsync pays for all of them. Each write runs inside its own
 * savepoint, so a write that throws is rolled back alone and fails alone; every
 * other promise resolves only after the shared COMMIT.
 *
 * Durability only where it is owed: a group that holds a durable write (an
 * enqueue, whose commit answers 202; a token; an operator's replay) commits with
 * `synchronous = FULL`, its fsync included. A group of only relaxed writes
 * (claims, leases, settles) commits with NORMAL: in WAL mode that commit is not
 * fsynced by itself, and the next FULL commit, or a checkpoint, makes it
 * durable with everything before it. A power cut can then lose the last
 * relaxed commits, never a durable one, and never in a way that reorders
 * them: the message goes back to its lease and is delivered again under the
 * same idempotency key, which is what at-least-once allows.
 */
import type { DatabaseSync } from 'node:sqlite';
import { errors } from '../../core/errors.ts';
import type { Statements } from './sql.ts';

type TransactionStatements = Pick<Statements, 'begin' | 'commit' | 'rollback' | 'savepoint' | 'releaseSavepoint' | 'rollbackToSavepoint'>;

interface PendingWrite {
  operation: () => unknown;
  /** Needs its commit fsynced before it resolves. */
  durable: boolean;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

type Result = { ok: true; value: unknown } | { ok: false; error: unknown };

export interface GroupCommitOptions {
  db: DatabaseSync;
  statements: TransactionStatements;
  /** Called after each successful commit with the number of writes it carried. */
  onCommit?: ((writes: number) => void) | undefined;
  /** `full`: every commit is fsynced, relaxed writes too (the connection's own setting is FULL). */
  synchronous: 'full' | 'normal' | 'by-write';
}

export class GroupCommit {
  readonly #db: DatabaseSync;
  readonly #st: TransactionStatements;
  readonly #onCommit: ((writes: number) => void) | undefined;
  readonly #synchronous: GroupCommitOptions['synchronous'];
  /** The connection's setting now; changed between transactions only. */
  #full: boolean;
  #pending: PendingWrite[] = [];
  #scheduled: NodeJS.Immediate | undefined;

  constructor(opts: GroupCommitOptions) {
    this.#db = opts.db;
    this.#st = opts.statements;
    this.#onCommit = opts.onCommit;
    this.#synchronous = opts.synchronous;
    this.#full = opts.synchronous !== 'normal';
  }

  /**
   * Queues a synchronous write for the next group. It runs inside the group's
   * transaction; the promise settles after COMMIT with what it returned or threw.
   */
  submit<T>(operation: () => T, durable = true): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#pending.push({ operation, durable, resolve: resolve as (value: unknown) => void, reject });
      // setImmediate runs after pending I/O callbacks, so a burst of requests lands in one group.
      this.#scheduled ??= setImmediate(() => this.flush());
    });
  }

  /** Commits every queued write now. Called by the scheduler and by close(). */
  flush(): void {
    if (this.#scheduled !== undefined) clearImmediate(this.#scheduled);
    this.#scheduled = undefined;
    const group = this.#pending;
    this.#pending = [];
    if (group.length === 0) return;

    try {
      if (this.#synchronous === 'by-write') this.#setFull(group.some((w) => w.durable));
      this.#st.begin.run();
    } catch (cause) {
      rejectAll(group, 'cannot start a transaction', cause);
      return;
    }
    const results: Result[] = [];
    for (const write of group) {
      try {
        results.push(this.#runInSavepoint(write));
      } catch (cause) {
        // The savepoint machinery itself failed, or SQLite abandoned the whole
        // transaction (I/O error, full disk): nothing in this group is durable.
        this.#abandon();
        rejectAll(group, 'the transaction was rolled back', cause);
        return;
      }
    }
    try {
      this.#st.commit.run();
    } catch (cause) {
      this.#abandon();
      rejectAll(group, 'commit failed', cause);
      return;
    }
    this.#onCommit?.(group.length);
    group.forEach((write, i) => {
      const result = results[i];
      if (result?.ok) write.resolve(result.value);
      else write.reject(result?.error);
    });
  }

  #runInSavepoint(write: PendingWrite): Result {
    this.#st.savepoint.run();
    try {
      const value = write.operation();
      this.#st.releaseSavepoint.run();
      return { ok: true, value };
    } catch (error) {
      if (!this.#db.isTransaction) throw error;
      this.#st.rollbackToSavepoint.run();
      this.#st.releaseSavepoint.run();
      return { ok: false, error };
    }
  }

  /** PRAGMA synchronous takes effect from the next transaction; it is set only when it changes. */
  #setFull(full: boolean): void {
    if (full === this.#full) return;
    this.#db.exec(`PRAGMA synchronous = ${full ? 'FULL' : 'NORMAL'}`);
    this.#full = full;
  }

  #abandon(): void {
    try {
      if (this.#db.isTransaction) this.#st.rollback.run();
    } catch {
      // The connection is already in trouble; the callers learn of it through their rejections.
    }
  }
}

function rejectAll(group: PendingWrite[], what: string, cause: unknown): void {
  const error = errors.STORE_UNAVAILABLE.create([what], { cause });
  for (const write of group) write.reject(error);
}
