-- 0002_ack_in_row: as SQLite's 0007. The attempt that acks a message is its last, so
-- the ack's UPDATE keeps it in the message's own row instead of an `attempts` row;
-- the history reads the attempts rows, then this one.
ALTER TABLE messages ADD COLUMN ack_attempt integer;
ALTER TABLE messages ADD COLUMN ack_started_at bigint;
ALTER TABLE messages ADD COLUMN ack_duration_ms bigint;
ALTER TABLE messages ADD COLUMN ack_idempotency_key text;
