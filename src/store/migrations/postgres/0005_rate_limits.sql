-- 0005_rate_limits: the counters of rate limits shared by every node (inbound per
-- consumer, outbound per connector), in the shape rate-limiter-flexible's
-- RateLimiterPostgres reads and writes: one row per key and window.
CREATE TABLE rate_limits (
  key    varchar(255) PRIMARY KEY,
  points integer NOT NULL DEFAULT 0,
  expire bigint
);
-- rate-limiter-flexible deletes rows expired over an hour ago every few minutes.
CREATE INDEX rate_limits_expire ON rate_limits (expire);
