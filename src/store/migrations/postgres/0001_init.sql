-- 0001_init: the whole schema of SQLite's migrations 0001–0006, in one file: the queue,
-- dead letters and attempt history, OAuth tokens, trigger checkpoints, and the indexes
-- for claiming, dead-letter pages and retention.
-- Migrations are append-only: never edit a file that has shipped; add the next number.
--
-- Times are bigint milliseconds since the epoch, always given by the store's clock,
-- never by now(), so that every node (and a test's manual clock) agrees with itself.
-- JSON columns are text holding the JSON as Junction wrote it: byte for byte what was
-- stored (key order included), with nothing reparsed on the way in or out. Cast with
-- ::jsonb to query them by hand.
-- Ids are compared bytewise (COLLATE "C"): UUIDv7 text then sorts by creation time
-- whatever the database's collation.
-- Named locks (Store.exclusive) need no table: they are advisory locks.

CREATE TABLE messages (
  id              text COLLATE "C" PRIMARY KEY,    -- UUIDv7
  flow            text    NOT NULL,
  state           text    NOT NULL CHECK (state IN ('queued', 'running', 'done', 'dead')),
  body            text    NOT NULL,                -- JSON
  headers         text    NOT NULL,                -- JSON object of strings
  meta            text    NOT NULL,                -- JSON object
  traceparent     text,
  idempotency_key text    NOT NULL,                -- dedupe_key when given, else id
  dedupe_key      text,
  body_digest     text,                            -- SHA-256 (hex) of the body's RFC 8785 JSON; with dedupe_key only
  start_step      integer NOT NULL DEFAULT 0,      -- a split part resumes its flow after the split
  attempts        integer NOT NULL DEFAULT 0,      -- spent since creation or the last replay
  replays         integer NOT NULL DEFAULT 0,
  created_at      bigint  NOT NULL,
  run_at          bigint  NOT NULL,
  updated_at      bigint  NOT NULL,
  lease_owner     text,
  lease_token     text,
  lease_until     bigint,
  error_code      text,                            -- of the last failed attempt
  error           text,
  reason          text,                            -- JSON array: the error's cause chain, outermost first
  last_response   text,                            -- JSON ResponseSnapshot
  dead_at         bigint
);

-- Idempotency: one message per sender key and flow. enqueue inserts with
-- ON CONFLICT (flow, dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING.
CREATE UNIQUE INDEX messages_dedupe ON messages (flow, dedupe_key) WHERE dedupe_key IS NOT NULL;

-- Claiming: due queued messages in order, and leases that ran out. Partial indexes
-- hold only the rows of their state, so done messages cost the queue nothing.
CREATE INDEX messages_due ON messages (run_at, id) WHERE state = 'queued';
CREATE INDEX messages_lease ON messages (lease_until) WHERE state = 'running';

-- Dead-letter pages, newest first, and per-flow counts.
CREATE INDEX messages_dead ON messages (dead_at DESC, id DESC) WHERE state = 'dead';
CREATE INDEX messages_flow_state ON messages (flow, state);

-- Retention: done messages by when they were done.
CREATE INDEX messages_done ON messages (updated_at) WHERE state = 'done';

CREATE TABLE attempts (
  seq             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, -- insertion order; attempt numbers repeat
  message_id      text COLLATE "C" NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
  attempt         integer NOT NULL,
  started_at      bigint  NOT NULL,
  duration_ms     bigint  NOT NULL,
  outcome         text    NOT NULL CHECK (outcome IN ('ack', 'retry', 'dead')),
  error_code      text,
  error           text,
  response        text,                            -- JSON ResponseSnapshot
  idempotency_key text                             -- the Idempotency-Key the attempt sent, if any
);

CREATE INDEX attempts_message ON attempts (message_id, seq);

-- OAuth 2.0 tokens of the connectors, shared by every node. Stored in clear for now.
CREATE TABLE tokens (
  key           text   PRIMARY KEY,                -- connector name ':' hash of token URL, client id, scope…
  access_token  text   NOT NULL,
  expires_at    bigint,                            -- NULL: the server gave no lifetime
  refresh_token text,
  obtained_at   bigint NOT NULL,
  updated_at    bigint NOT NULL
);

-- Where a trigger (a poll) left off; written in the same transaction as the messages
-- it accounts for (enqueue's `checkpoint`).
CREATE TABLE checkpoints (
  key        text   PRIMARY KEY,
  value      text   NOT NULL,                      -- JSON, replaced whole by each write
  updated_at bigint NOT NULL
);
