/**
 * @module store/sqlite/checkpoints
 * The `checkpoints` member of the SQLite store: where each trigger left off, one
 * row per key (migration 0005), the value as JSON text. {@link saveCheckpoint} is
 * also what `enqueue` runs inside its own transaction, so a poll's checkpoint
 * commits with the messages it read or not at all.
 */
import { errors } from '../../core/errors.ts';
import type { Json } from '../../core/message.ts';
import type { Checkpoint, KeyValue } from '../store.ts';
import type { Access } from './dead-letters.ts';
import { text, toJsonText } from '../rows.ts';
import type { Statements } from './sql.ts';

export interface CheckpointDeps {
  /** Runs at once, outside any write transaction. */
  read: Access;
  /** Joins the next group commit. */
  write: Access;
}

/** Creates or replaces the checkpoint; the caller supplies the transaction. */
export function saveCheckpoint(st: Statements, checkpoint: Checkpoint, now: number): void {
  if (typeof checkpoint.key !== 'string' || checkpoint.key === '') {
    throw errors.INPUT_INVALID.create(['a checkpoint key must be a non-empty string']);
  }
  const value = toJsonText(checkpoint.value, `checkpoint ${JSON.stringify(checkpoint.key)}`);
  st.upsertCheckpoint.run({ key: checkpoint.key, value, now });
}

export function createCheckpoints({ read, write }: CheckpointDeps): KeyValue<Json> {
  return {
    get(key) {
      return read(`read checkpoint ${key}`, (st) => {
        const row = st.selectCheckpoint.get({ key });
        return row ? (JSON.parse(text(row, 'value')) as Json) : undefined;
      });
    },

    set(key, value) {
      return write(`write checkpoint ${key}`, (st, now) => saveCheckpoint(st, { key, value }, now));
    },

    delete(key) {
      return write(`delete checkpoint ${key}`, (st) => Number(st.deleteCheckpoint.run({ key }).changes) > 0);
    },
  };
}
