-- 0001_init: the queue, dead letters and attempt history.
-- Migrations are append-only: never edit a file that has shipped; add the next number.
-- Times are integer milliseconds since the epoch. JSON columns hold text.

CREATE TABLE messages (
  id              TEXT    PRIMARY KEY,        -- UUIDv7, so it sorts by creation time
  flow            TEXT    NOT NULL,
  state           TEXT    NOT NULL CHECK (state IN ('queued', 'running', 'done', 'dead')),
  body            TEXT    NOT NULL,           -- JSON
  headers         TEXT    NOT NULL,           -- JSON object of strings
  meta            TEXT    NOT NULL,           -- JSON object
  traceparent     TEXT,
  idempotency_key TEXT    NOT NULL,           -- dedupe_key when given, else id
  dedupe_key      TEXT,
  attempts        INTEGER NOT NULL DEFAULT 0, -- spent since creation or the last replay
  replays         INTEGER NOT NULL DEFAULT 0,
  created_at      INTEGER NOT NULL,
  run_at          INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL,
  lease_owner     TEXT,
  lease_token     TEXT,
  lease_until     INTEGER,
  error_code      TEXT,                       -- of the last failed attempt
  error           TEXT,
  reason          TEXT,                       -- JSON array: the error's cause chain, outermost first
  last_response   TEXT,                       -- JSON ResponseSnapshot
  dead_at         INTEGER
) STRICT;

-- Idempotency: one message per sender key and flow.
CREATE UNIQUE INDEX messages_dedupe ON messages (flow, dedupe_key) WHERE dedupe_key IS NOT NULL;

-- Claiming: due queued messages in order, and leases that ran out. Partial indexes
-- hold only the rows of their state, so done messages cost the queue nothing.
CREATE INDEX messages_due ON messages (run_at, id) WHERE state = 'queued';
CREATE INDEX messages_lease ON messages (lease_until) WHERE state = 'running';

-- Dead-letter pages, newest first, and per-flow counts.
CREATE INDEX messages_dead ON messages (dead_at DESC, id DESC) WHERE state = 'dead';
CREATE INDEX messages_flow_state ON messages (flow, state);

CREATE TABLE attempts (
  seq         INTEGER PRIMARY KEY,            -- insertion order; attempt numbers repeat after give-backs and replays
  message_id  TEXT    NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
  attempt     INTEGER NOT NULL,
  started_at  INTEGER NOT NULL,
  duration_ms INTEGER NOT NULL,
  outcome     TEXT    NOT NULL CHECK (outcome IN ('ack', 'retry', 'dead')),
  error_code  TEXT,
  error       TEXT,
  response    TEXT                            -- JSON ResponseSnapshot
) STRICT;

CREATE INDEX attempts_message ON attempts (message_id, seq);
