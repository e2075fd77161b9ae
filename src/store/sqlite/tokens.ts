/**
 * @module store/sqlite/tokens
 * The `tokens` member of the SQLite store: OAuth 2.0 token sets by key, one row
 * each (migration 0003). Reads run at once; writes join the group commit, so a
 * new token is durable, and seen by every process on the file, before `set`
 * resolves. Two processes refreshing together both write; the last commit wins.
 */
import type { KeyValue, TokenRecord } from '../store.ts';
import type { Access } from './dead-letters.ts';
import { toTokenRecord } from '../rows.ts';

export interface TokenDeps {
  /** Runs at once, outside any write transaction. */
  read: Access;
  /** Joins the next group commit. */
  write: Access;
}

export function createTokens({ read, write }: TokenDeps): KeyValue<TokenRecord> {
  return {
    get(key) {
      // The key is named in errors, never the value: it holds no secret.
      return read(`read token ${key}`, (st) => {
        const row = st.selectToken.get({ key });
        return row ? toTokenRecord(row) : undefined;
      });
    },

    set(key, value) {
      return write(`write token ${key}`, (st, now) => {
        st.upsertToken.run({
          key,
          accessToken: value.accessToken,
          expiresAt: value.expiresAt,
          refreshToken: value.refreshToken,
          obtainedAt: value.obtainedAt,
          now,
        });
      });
    },

    delete(key) {
      return write(`delete token ${key}`, (st) => Number(st.deleteToken.run({ key }).changes) > 0);
    },
  };
}
