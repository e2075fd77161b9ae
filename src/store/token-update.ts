/**
 * @module store/token-update
 * `TokenStore.update` for a store whose only cross-process lock is `exclusive`
 * (SQLite, whose writes go through a group commit that cannot stay open across
 * a token request): the lock `token:<key>`, waited for by asking again every
 * {@link RETRY_MS} while another holder has it, then read, renew, write.
 */
import { sleep } from '../core/sleep.ts';
import type { KeyValue, Store, TokenRecord, TokenStore } from './store.ts';

/** How often a caller waiting for another's renewal asks for the lock again; a token request takes about this long. */
const RETRY_MS = 25;

export function updateUnderExclusive(tokens: KeyValue<TokenRecord>, exclusive: Store['exclusive']): TokenStore['update'] {
  return async function update(key, renew, signal) {
    const stop = signal ?? new AbortController().signal;
    for (;;) {
      stop.throwIfAborted();
      let after: TokenRecord | undefined;
      const held = await exclusive(`token:${key}`, async () => {
        stop.throwIfAborted();
        const current = await tokens.get(key);
        const next = await renew(current);
        if (next !== undefined) await tokens.set(key, next);
        after = next ?? current;
      });
      if (held) return after;
      await sleep(RETRY_MS * (1 + Math.random()), stop);
    }
  };
}
