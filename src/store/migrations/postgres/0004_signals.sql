-- 0004_signals: a value one node publishes to the others that is too big for a
-- NOTIFY payload (8000 bytes), such as a flow's answer for the node holding the
-- HTTP request. The notification names the row; rows older than two minutes are
-- deleted by the next publish.
CREATE TABLE signals (
  id         bigserial PRIMARY KEY,
  topic      text   NOT NULL,
  key        text   NOT NULL,
  payload    text   NOT NULL,
  created_at bigint NOT NULL
);
CREATE INDEX signals_created_at ON signals (created_at);
