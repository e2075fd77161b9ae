-- 0005_checkpoints_and_locks: where a trigger (a poll) left off, and named locks
-- that let one holder at a time run something (a schedule firing), across every
-- process on this file.

-- A checkpoint is written in the same transaction as the messages it accounts for
-- (enqueue's `checkpoint` option), so a crash never keeps one without the other.
CREATE TABLE checkpoints (
  key        TEXT    PRIMARY KEY,             -- e.g. the poll trigger's flow name
  value      TEXT    NOT NULL,                -- JSON, replaced whole by each write
  updated_at INTEGER NOT NULL
) STRICT;

-- One row per lock held. A holder renews lease_until while it runs and deletes its
-- row when done; a row whose lease ran out belongs to a holder that died, and the
-- next taker overwrites it.
CREATE TABLE locks (
  name        TEXT    PRIMARY KEY,
  holder      TEXT    NOT NULL,               -- random per exclusive() call
  acquired_at INTEGER NOT NULL,
  lease_until INTEGER NOT NULL
) STRICT;
