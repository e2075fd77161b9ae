/**
 * @module store/sqlite/sql
 * Every statement the SQLite store runs after migration, one named entry each, so
 * the SQL can be read (and its query plan checked) in one place. They are prepared
 * once per connection by {@link prepareStatements}. Parameters are named (`:now`).
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite';

/** Columns a worker needs to process a message. */
const CLAIMED_COLUMNS = 'id, flow, attempts, idempotency_key, traceparent, body, headers, meta, start_step, lease_token, lease_until';

/** Releases the lease; shared by every settle outcome. */
const RELEASE_LEASE = 'lease_owner = NULL, lease_token = NULL, lease_until = NULL';

/** Back to the queue, due now, attempts reset; id, body, idempotency key and history stay. Shared by both replays. */
const REPLAY = `state = 'queued', run_at = :now, attempts = 0, replays = replays + 1, dead_at = NULL, reason = NULL,
        ${RELEASE_LEASE}, updated_at = :now`;

/** Only the current lease holder may write; a stale token matches nothing. */
const HELD_BY_LEASE = "id = :id AND state = 'running' AND lease_token = :lease";

export const sql = {
  // Transaction control, prepared like the rest because group commit runs it per operation.
  begin: 'BEGIN IMMEDIATE',
  commit: 'COMMIT',
  rollback: 'ROLLBACK',
  savepoint: 'SAVEPOINT operation',
  releaseSavepoint: 'RELEASE operation',
  rollbackToSavepoint: 'ROLLBACK TO operation',

  ping: 'SELECT 1 AS ok',

  findByDedupeKey: 'SELECT id, body_digest FROM messages WHERE flow = :flow AND dedupe_key = :dedupeKey',

  // Only for a row stored before body digests were (migration 0004): its digest is computed from its body.
  selectBody: 'SELECT body FROM messages WHERE id = :id',

  insertMessage: `
    INSERT INTO messages (id, flow, state, body, headers, meta, traceparent, idempotency_key, dedupe_key,
                          body_digest, start_step, created_at, run_at, updated_at)
    VALUES (:id, :flow, 'queued', :body, :headers, :meta, :traceparent, :idempotencyKey, :dedupeKey,
            :bodyDigest, :startStep, :now, :runAt, :now)`,

  // Stored and leased in one statement: a message handed to the local worker at once (enqueue's `claim`).
  insertClaimed: `
    INSERT INTO messages (id, flow, state, body, headers, meta, traceparent, idempotency_key, dedupe_key,
                          body_digest, start_step, created_at, run_at, updated_at,
                          attempts, lease_owner, lease_token, lease_until)
    VALUES (:id, :flow, 'running', :body, :headers, :meta, :traceparent, :idempotencyKey, :dedupeKey,
            :bodyDigest, :startStep, :now, :runAt, :now,
            1, :worker, :lease, :leaseUntil)`,

  // Each branch walks its own index and stops at :limit, so a large backlog is never sorted whole.
  selectDue: `
    SELECT id, run_at FROM (
      SELECT id, run_at FROM messages
      WHERE state = 'queued' AND run_at <= :now
      ORDER BY run_at, id LIMIT :limit)
    UNION ALL
    SELECT id, run_at FROM (
      SELECT id, run_at FROM messages
      WHERE state = 'running' AND lease_until < :now
      ORDER BY run_at, id LIMIT :limit)
    ORDER BY run_at, id LIMIT :limit`,

  leaseMessage: `
    UPDATE messages
    SET state = 'running', lease_owner = :worker, lease_token = :lease, lease_until = :leaseUntil,
        attempts = attempts + 1, updated_at = :now
    WHERE id = :id
    RETURNING ${CLAIMED_COLUMNS}`,

  // The acking attempt is the message's last: kept in its row (migration 0007), not in `attempts`.
  ackMessage: `
    UPDATE messages
    SET state = 'done', ${RELEASE_LEASE}, updated_at = :now,
        ack_attempt = :attempt, ack_started_at = :startedAt, ack_duration_ms = :durationMs, ack_idempotency_key = :idempotencyKey
    WHERE ${HELD_BY_LEASE}`,

  retryMessage: `
    UPDATE messages
    SET state = 'queued', run_at = :runAt, attempts = max(attempts - :givenBack, 0),
        error_code = :errorCode, error = :error, last_response = :lastResponse,
        ${RELEASE_LEASE}, updated_at = :now
    WHERE ${HELD_BY_LEASE}`,

  killMessage: `
    UPDATE messages
    SET state = 'dead', dead_at = :now, error_code = :errorCode, error = :error, reason = :reason,
        last_response = :lastResponse, ${RELEASE_LEASE}, updated_at = :now
    WHERE ${HELD_BY_LEASE}`,

  insertAttempt: `
    INSERT INTO attempts (message_id, attempt, started_at, duration_ms, outcome, error_code, error, response, idempotency_key)
    VALUES (:messageId, :attempt, :startedAt, :durationMs, :outcome, :errorCode, :error, :response, :idempotencyKey)`,

  extendLease: `
    UPDATE messages SET lease_until = :leaseUntil, updated_at = :now
    WHERE ${HELD_BY_LEASE}`,

  selectMessage: 'SELECT * FROM messages WHERE id = :id',

  // The attempts rows in order, then the acking attempt kept in the message's row.
  selectHistory: `
    SELECT attempt, started_at, duration_ms, outcome, error_code, error, response, idempotency_key, 0 AS part, seq
    FROM attempts WHERE message_id = :id
    UNION ALL
    SELECT ack_attempt, ack_started_at, ack_duration_ms, 'ack', NULL, NULL, NULL, ack_idempotency_key, 1, 0
    FROM messages WHERE id = :id AND ack_started_at IS NOT NULL
    ORDER BY part, seq`,

  countByState: `
    SELECT state, count(*) AS n FROM messages
    WHERE :flow IS NULL OR flow = :flow
    GROUP BY state`,

  nextRunAt: "SELECT min(run_at) AS run_at FROM messages WHERE state = 'queued'",

  oldestQueued: "SELECT min(created_at) AS created_at FROM messages WHERE state = 'queued' AND (:flow IS NULL OR flow = :flow)",

  // Keyset pagination: (dead_at, id) of the previous page's last row bounds the next page.
  listDead: `
    SELECT id, flow, idempotency_key, attempts, error_code, error, dead_at FROM messages
    WHERE state = 'dead'
      AND (:flow IS NULL OR flow = :flow)
      AND (:beforeDeadAt IS NULL OR (dead_at, id) < (:beforeDeadAt, :beforeId))
    ORDER BY dead_at DESC, id DESC
    LIMIT :limit`,

  selectDeadAt: "SELECT dead_at FROM messages WHERE id = :id AND state = 'dead'",

  selectDead: "SELECT * FROM messages WHERE id = :id AND state = 'dead'",

  countDead: "SELECT count(*) AS n FROM messages WHERE state = 'dead' AND (:flow IS NULL OR flow = :flow)",

  // Replay keeps id, body, idempotency key and history; the dead-letter fields are cleared.
  replayDeadById: `
    UPDATE messages
    SET ${REPLAY}
    WHERE id = :id AND state = 'dead'
    RETURNING id`,

  replayDead: `
    UPDATE messages
    SET ${REPLAY}
    WHERE state = 'dead' AND (:flow IS NULL OR flow = :flow)
    RETURNING id`,

  // Attempts go with their message through ON DELETE CASCADE.
  purgeDeadById: "DELETE FROM messages WHERE id = :id AND state = 'dead'",

  purgeDead: "DELETE FROM messages WHERE state = 'dead' AND (:flow IS NULL OR flow = :flow)",

  // Retention: the oldest first, at most :limit rows per statement (each walks its partial index).
  sweepDone: `
    DELETE FROM messages WHERE id IN (
      SELECT id FROM messages WHERE state = 'done' AND updated_at < :before ORDER BY updated_at LIMIT :limit)`,
  sweepDead: `
    DELETE FROM messages WHERE id IN (
      SELECT id FROM messages WHERE state = 'dead' AND dead_at < :before ORDER BY dead_at LIMIT :limit)`,

  selectToken: 'SELECT access_token, expires_at, refresh_token, obtained_at FROM tokens WHERE key = :key',

  upsertToken: `
    INSERT INTO tokens (key, access_token, expires_at, refresh_token, obtained_at, updated_at)
    VALUES (:key, :accessToken, :expiresAt, :refreshToken, :obtainedAt, :now)
    ON CONFLICT (key) DO UPDATE SET
      access_token = excluded.access_token, expires_at = excluded.expires_at,
      refresh_token = excluded.refresh_token, obtained_at = excluded.obtained_at, updated_at = excluded.updated_at`,

  deleteToken: 'DELETE FROM tokens WHERE key = :key',

  selectCheckpoint: 'SELECT value FROM checkpoints WHERE key = :key',

  upsertCheckpoint: `
    INSERT INTO checkpoints (key, value, updated_at) VALUES (:key, :value, :now)
    ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,

  deleteCheckpoint: 'DELETE FROM checkpoints WHERE key = :key',

  // Takes a free lock, or one whose lease ran out (its holder died); a live holder's row is left alone (no change).
  takeLock: `
    INSERT INTO locks (name, holder, acquired_at, lease_until) VALUES (:name, :holder, :now, :leaseUntil)
    ON CONFLICT (name) DO UPDATE SET
      holder = excluded.holder, acquired_at = excluded.acquired_at, lease_until = excluded.lease_until
    WHERE locks.lease_until < :now`,

  renewLock: 'UPDATE locks SET lease_until = :leaseUntil WHERE name = :name AND holder = :holder',

  releaseLock: 'DELETE FROM locks WHERE name = :name AND holder = :holder',
} as const;

export type StatementName = keyof typeof sql;
export type Statements = Record<StatementName, StatementSync>;

/** Prepares every statement; the schema must exist, so call it after migrating. */
export function prepareStatements(db: DatabaseSync): Statements {
  const out: Partial<Statements> = {};
  for (const name of Object.keys(sql) as StatementName[]) out[name] = db.prepare(sql[name]);
  return out as Statements;
}
