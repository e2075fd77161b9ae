/**
 * @module store/postgres/sql
 * Every statement the PostgreSQL store runs after migration, one named entry each,
 * so the SQL can be read (and its plan checked) in one place. Parameters are
 * positional (`$1`); each entry's comment lists them. Times are bound from the
 * store's clock, never taken from `now()`. Batches travel as arrays and are
 * expanded with `unnest`, so a statement's shape does not depend on the batch size.
 */

/** Columns a worker needs to process a message. */
const CLAIMED_COLUMNS = 'id, flow, attempts, idempotency_key, traceparent, body, headers, meta, start_step, lease_token, lease_until, run_at';

/** Releases the lease; shared by every settle outcome. */
const RELEASE_LEASE = 'lease_owner = NULL, lease_token = NULL, lease_until = NULL';

/** Back to the queue, due now ($1), attempts reset; id, body, idempotency key and history stay. */
export const REPLAY = `state = 'queued', run_at = $1, attempts = 0, replays = replays + 1, dead_at = NULL, reason = NULL,
        ${RELEASE_LEASE}, updated_at = $1`;

/** Only the current lease holder may write: $1 id, $2 lease token. */
const HELD_BY_LEASE = "id = $1 AND state = 'running' AND lease_token = $2";

/** Appends the attempt of a settle that matched ($4… are the attempt's columns). */
const INSERT_ATTEMPT_FROM = (cte: string, first: number): string => {
  const p = (i: number): string => `$${first + i}`;
  return `
    INSERT INTO attempts (message_id, attempt, started_at, duration_ms, outcome, error_code, error, response, idempotency_key)
    SELECT id, ${p(0)}::integer, ${p(1)}::bigint, ${p(2)}::bigint, ${p(3)}::text, ${p(4)}::text, ${p(5)}::text, ${p(6)}::text, ${p(7)}::text FROM ${cte}`;
};

/** The settle statements without an attempt record; with one, {@link withAttempt} wraps them. */
const settle = {
  // $1 id, $2 lease, $3 now, $4 attempt, $5 started_at, $6 duration_ms, $7 idempotency key: the acking
  // attempt, the message's last, is kept in its row (migration 0002), not in `attempts`.
  ack: `
    UPDATE messages
    SET state = 'done', ${RELEASE_LEASE}, updated_at = $3,
        ack_attempt = $4, ack_started_at = $5, ack_duration_ms = $6, ack_idempotency_key = $7
    WHERE ${HELD_BY_LEASE} RETURNING id`,
  // $1 id, $2 lease, $3 now, $4 run_at, $5 attempts given back, $6 error_code, $7 error, $8 last_response
  retry: `
    UPDATE messages
    SET state = 'queued', run_at = $4, attempts = greatest(attempts - $5::integer, 0),
        error_code = $6, error = $7, last_response = $8, ${RELEASE_LEASE}, updated_at = $3
    WHERE ${HELD_BY_LEASE} RETURNING id`,
  // $1 id, $2 lease, $3 now, $4 error_code, $5 error, $6 reason, $7 last_response
  dead: `
    UPDATE messages
    SET state = 'dead', dead_at = $3, error_code = $4, error = $5, reason = $6, last_response = $7,
        ${RELEASE_LEASE}, updated_at = $3
    WHERE ${HELD_BY_LEASE} RETURNING id`,
} as const;

/** How many parameters each settle statement takes before the attempt's. */
export const SETTLE_PARAMS = { ack: 7, retry: 8, dead: 7 } as const;

/** One statement: the settle, and the attempt appended only if the settle matched; RETURNING says whether it did. */
export function withAttempt(kind: 'retry' | 'dead'): string {
  return `WITH settled AS (${settle[kind]}), appended AS (${INSERT_ATTEMPT_FROM('settled', SETTLE_PARAMS[kind] + 1)}) SELECT id FROM settled`;
}

export const sql = {
  ping: 'SELECT 1 AS ok',

  // $1 flows, $2 dedupe keys (parallel arrays): the messages already stored under these keys.
  findByDedupeKeys: `
    SELECT m.id, m.flow, m.dedupe_key, m.body_digest, m.body
    FROM messages m JOIN unnest($1::text[], $2::text[]) AS k(flow, dedupe_key)
      ON m.flow = k.flow AND m.dedupe_key = k.dedupe_key`,

  // Parallel arrays, one element per new message; state is 'queued', or 'running' for one
  // leased at enqueue (attempts 1 and the lease columns set). A key that another transaction
  // committed meanwhile is skipped, not an error: RETURNING leaves it out, and the caller
  // reads the winner back. Rows come sorted by (flow, dedupe_key), so two batches sharing
  // keys take the index's locks in one order and do not deadlock.
  insertMessages: `
    INSERT INTO messages (id, flow, state, body, headers, meta, traceparent, idempotency_key, dedupe_key,
                          body_digest, start_step, created_at, run_at, updated_at,
                          attempts, lease_owner, lease_token, lease_until)
    SELECT id, flow, state, body, headers, meta, traceparent, idempotency_key, dedupe_key,
           body_digest, start_step, $15::bigint, run_at, $15::bigint,
           CASE WHEN state = 'running' THEN 1 ELSE 0 END, lease_owner, lease_token, lease_until
    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                $9::text[], $10::text[], $11::integer[], $12::bigint[], $13::text[], $14::text[], $16::bigint[])
      AS r(id, flow, state, body, headers, meta, traceparent, idempotency_key, dedupe_key,
           body_digest, start_step, run_at, lease_owner, lease_token, lease_until)
    ON CONFLICT (flow, dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING
    RETURNING id`,

  // $1 now, $2 limit, $3 worker, $4 lease until. Each branch walks its own partial index
  // and stops at $2; rows another claimer has locked are skipped, not waited for, so
  // concurrent claimers (on any node) never take one message twice.
  claim: `
    WITH queued AS (
      SELECT id, run_at FROM messages
      WHERE state = 'queued' AND run_at <= $1
      ORDER BY run_at, id LIMIT $2 FOR UPDATE SKIP LOCKED),
    expired AS (
      SELECT id, run_at FROM messages
      WHERE state = 'running' AND lease_until < $1
      ORDER BY run_at, id LIMIT $2 FOR UPDATE SKIP LOCKED),
    due AS (
      SELECT id, run_at FROM queued UNION ALL SELECT id, run_at FROM expired
      ORDER BY run_at, id LIMIT $2)
    UPDATE messages AS m
    SET state = 'running', lease_owner = $3, lease_token = gen_random_uuid()::text, lease_until = $4,
        attempts = m.attempts + 1, updated_at = $1
    FROM due WHERE m.id = due.id
    RETURNING ${CLAIMED_COLUMNS.split(', ')
      .map((c) => `m.${c}`)
      .join(', ')}`,

  settle,

  // $1 ids, $2 lease tokens (parallel arrays), $3 lease until, $4 now
  extendLeases: `
    UPDATE messages AS m SET lease_until = $3, updated_at = $4
    FROM unnest($1::text[], $2::text[]) AS r(id, lease)
    WHERE m.id = r.id AND m.state = 'running' AND m.lease_token = r.lease
    RETURNING m.id`,

  // $1 id
  selectMessage: 'SELECT * FROM messages WHERE id = $1',

  // $1 id
  // The attempts rows in order, then the acking attempt kept in the message's row.
  selectHistory: `
    SELECT attempt, started_at, duration_ms, outcome, error_code, error, response, idempotency_key, 0 AS part, seq
    FROM attempts WHERE message_id = $1
    UNION ALL
    SELECT ack_attempt, ack_started_at, ack_duration_ms, 'ack', NULL, NULL, NULL, ack_idempotency_key, 1, 0
    FROM messages WHERE id = $1 AND ack_started_at IS NOT NULL
    ORDER BY part, seq`,

  // $1 flow or NULL
  countByState: `
    SELECT state, count(*) AS n FROM messages
    WHERE $1::text IS NULL OR flow = $1
    GROUP BY state`,

  nextRunAt: "SELECT min(run_at) AS run_at FROM messages WHERE state = 'queued'",

  // $1 now
  oldestDue: "SELECT flow, min(run_at) AS run_at FROM messages WHERE state = 'queued' AND run_at <= $1 GROUP BY flow",

  // $1 id
  selectDeadAt: "SELECT dead_at FROM messages WHERE id = $1 AND state = 'dead'",

  // $1 id
  selectDead: "SELECT * FROM messages WHERE id = $1 AND state = 'dead'",

  // $1 now, $2 ids
  replayDeadByIds: `UPDATE messages SET ${REPLAY} WHERE id = ANY($2::text[]) AND state = 'dead' RETURNING id`,

  // $1 ids. Attempts go with their message through ON DELETE CASCADE.
  purgeDeadByIds: "DELETE FROM messages WHERE id = ANY($1::text[]) AND state = 'dead'",

  // $1 done before, $2 dead before, $3 limit. One statement, so one short transaction; the
  // oldest first, each walking its partial index. The outer DELETEs repeat the state test,
  // so a row replayed or settled since it was picked is left alone.
  sweep: `
    WITH done AS (
      DELETE FROM messages WHERE state = 'done' AND updated_at < $1 AND id IN (
        SELECT id FROM messages WHERE state = 'done' AND updated_at < $1 ORDER BY updated_at LIMIT $3)
      RETURNING 1),
    dead AS (
      DELETE FROM messages WHERE state = 'dead' AND dead_at < $2 AND id IN (
        SELECT id FROM messages WHERE state = 'dead' AND dead_at < $2 ORDER BY dead_at LIMIT $3)
      RETURNING 1)
    SELECT (SELECT count(*) FROM done) AS done, (SELECT count(*) FROM dead) AS dead`,

  // $1 key
  selectToken: 'SELECT access_token, expires_at, refresh_token, obtained_at FROM tokens WHERE key = $1',

  // $1 key, $2 access token, $3 expires at, $4 refresh token, $5 obtained at, $6 now
  upsertToken: `
    INSERT INTO tokens (key, access_token, expires_at, refresh_token, obtained_at, updated_at)
    VALUES ($1, $2, $3, $4, $5, $6)
    ON CONFLICT (key) DO UPDATE SET
      access_token = excluded.access_token, expires_at = excluded.expires_at,
      refresh_token = excluded.refresh_token, obtained_at = excluded.obtained_at, updated_at = excluded.updated_at`,

  // $1 key
  deleteToken: 'DELETE FROM tokens WHERE key = $1',

  // $1 key
  selectCheckpoint: 'SELECT value FROM checkpoints WHERE key = $1',

  // $1 key, $2 value (JSON text), $3 now
  upsertCheckpoint: `
    INSERT INTO checkpoints (key, value, updated_at) VALUES ($1, $2, $3)
    ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,

  // $1 key
  deleteCheckpoint: 'DELETE FROM checkpoints WHERE key = $1',

  // $1 channel, $2 payload. Sent when its transaction commits; a notifying commit takes a database-wide lock.
  notify: 'SELECT pg_notify($1, $2)',

  // $1 channel, $2 topic, $3 key, $4 payload, $5 now, $6 delete rows created before, $7 kind mark, $8 separator.
  // The row and the notification that names it commit together; old rows go in the same statement.
  publishStored: `
    WITH gone AS (DELETE FROM signals WHERE created_at < $6),
    stored AS (INSERT INTO signals (topic, key, payload, created_at) VALUES ($2, $3, $4, $5) RETURNING id)
    SELECT pg_notify($1, $7 || $8 || $2 || $8 || $3 || $8 || id::text) FROM stored`,

  // $1 signal id
  selectSignal: 'SELECT payload FROM signals WHERE id = $1::bigint',

  // $1 lock key (bigint). Waits for it; released by COMMIT or ROLLBACK.
  lockXact: 'SELECT pg_advisory_xact_lock($1::bigint)',

  // $1 lock key (bigint). Session-level: held until unlocked or the session ends.
  tryLock: 'SELECT pg_try_advisory_lock($1::bigint) AS taken',

  // $1 lock key
  unlock: 'SELECT pg_advisory_unlock($1::bigint) AS released',
} as const;
