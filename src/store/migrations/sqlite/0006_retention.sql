-- 0006_retention: done messages and dead letters are deleted once they are older than
-- the configured retention (store.retention), oldest first, in small batches. Done
-- messages are found by when they were done; the index holds only their rows, so
-- the queue's own statements pay one index entry per ack and nothing else.
CREATE INDEX messages_done ON messages (updated_at) WHERE state = 'done';
