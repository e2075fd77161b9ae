-- 0004_body_digest_and_sent_key: a dedupe key is kept with a digest of its message's
-- body, so that the key reused for another body is refused instead of dropped; and
-- each attempt keeps the Idempotency-Key it actually sent.

-- SHA-256 (hex) of the body's canonical JSON (RFC 8785), set with the dedupe key in the
-- insert's own transaction. NULL on rows stored before this migration, and on rows
-- without a dedupe key (their key is their own id, which nothing can reuse); a NULL is
-- computed from the stored body when a key comes back.
ALTER TABLE messages ADD COLUMN body_digest TEXT;

-- The Idempotency-Key header the attempt's last request sent (deliver, call), as rendered
-- from the step's template; NULL when the attempt sent none.
ALTER TABLE attempts ADD COLUMN idempotency_key TEXT;
