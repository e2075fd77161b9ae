-- 0003_tokens: OAuth 2.0 tokens of the connectors, shared by every process on this
-- file, so that all of them use one access token and one (rotated) refresh token.
-- Tokens are stored in clear for now; encrypting them at rest is future work.

CREATE TABLE tokens (
  key           TEXT    PRIMARY KEY,          -- connector name ':' hash of token URL, client id, scope…
  access_token  TEXT    NOT NULL,
  expires_at    INTEGER,                      -- NULL: the server gave no lifetime
  refresh_token TEXT,
  obtained_at   INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL
) STRICT;
