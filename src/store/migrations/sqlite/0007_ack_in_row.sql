-- 0007_ack_in_row: the attempt that acks a message is its last, so it is kept in the
-- message's own row, written by the ack's UPDATE, instead of in a row of its own in
-- `attempts`: a message delivered at once costs one statement to settle, not two.
-- The history reads the attempts rows, then this one (store/sqlite/sql.ts selectHistory).
ALTER TABLE messages ADD COLUMN ack_attempt INTEGER;
ALTER TABLE messages ADD COLUMN ack_started_at INTEGER;
ALTER TABLE messages ADD COLUMN ack_duration_ms INTEGER;
ALTER TABLE messages ADD COLUMN ack_idempotency_key TEXT;
