/**
 * @module test/store/contract/tokens
 * tokens: get, set, delete; shared with a second store on the same storage, and
 * kept across close and reopen; `update` renews one key at a time across stores.
 */
import assert from 'node:assert/strict';
import type { TokenRecord } from '../../../src/store/store.ts';
import type { ContractTest } from './fixture.ts';

const KEY = 'crm:0123456789abcdef';

function token(over: Partial<TokenRecord> = {}): TokenRecord {
  return { accessToken: 'at-1', expiresAt: 1_735_693_200_000, refreshToken: 'rt-1', obtainedAt: 1_735_689_600_000, ...over };
}

export function tokenTests(test: ContractTest): void {
  test('tokens: get of an unknown key is undefined', async ({ setup }) => {
    const { store } = await setup();
    assert.equal(await store.tokens.get(KEY), undefined);
  });

  test('tokens: set then get returns the record as given, nulls included', async ({ setup }) => {
    const { store } = await setup();
    await store.tokens.set(KEY, token());
    assert.deepEqual(await store.tokens.get(KEY), token());
    await store.tokens.set('other', token({ expiresAt: null, refreshToken: null }));
    assert.deepEqual(await store.tokens.get('other'), token({ expiresAt: null, refreshToken: null }));
  });

  test('tokens: set replaces the whole record (a rotated refresh token, a null one)', async ({ setup }) => {
    const { store } = await setup();
    await store.tokens.set(KEY, token());
    await store.tokens.set(KEY, token({ accessToken: 'at-2', refreshToken: 'rt-2', expiresAt: 1_735_696_800_000 }));
    assert.deepEqual(await store.tokens.get(KEY), token({ accessToken: 'at-2', refreshToken: 'rt-2', expiresAt: 1_735_696_800_000 }));
    await store.tokens.set(KEY, token({ accessToken: 'at-3', refreshToken: null }));
    assert.deepEqual(await store.tokens.get(KEY), token({ accessToken: 'at-3', refreshToken: null }));
  });

  test('tokens: keys are independent', async ({ setup }) => {
    const { store } = await setup();
    await Promise.all([store.tokens.set('a', token({ accessToken: 'A' })), store.tokens.set('b', token({ accessToken: 'B' }))]);
    assert.equal((await store.tokens.get('a'))?.accessToken, 'A');
    assert.equal((await store.tokens.get('b'))?.accessToken, 'B');
  });

  test('tokens: delete removes the record and says whether there was one', async ({ setup }) => {
    const { store } = await setup();
    await store.tokens.set(KEY, token());
    assert.equal(await store.tokens.delete(KEY), true);
    assert.equal(await store.tokens.get(KEY), undefined);
    assert.equal(await store.tokens.delete(KEY), false);
  });

  test('tokens: a second store on the same storage sees a set at once, and the last set wins', async ({ setup, open }) => {
    const { clock, store } = await setup();
    const other = await open(clock);
    await store.tokens.set(KEY, token({ accessToken: 'from-first' }));
    assert.equal((await other.tokens.get(KEY))?.accessToken, 'from-first');
    await other.tokens.set(KEY, token({ accessToken: 'from-second', refreshToken: 'rt-second' }));
    assert.deepEqual(await store.tokens.get(KEY), token({ accessToken: 'from-second', refreshToken: 'rt-second' }));
  });

  test('tokens: survive close and reopen', async ({ setup, open }) => {
    const { clock, store } = await setup();
    const pending = store.tokens.set(KEY, token());
    await store.close();
    await pending;
    const again = await open(clock);
    assert.deepEqual(await again.tokens.get(KEY), token());
  });

  test('tokens: update stores what renew returns, given the stored record, and resolves with it', async ({ setup }) => {
    const { store } = await setup();
    const seen: (TokenRecord | undefined)[] = [];
    const first = await store.tokens.update(KEY, async (current) => {
      seen.push(current);
      return token();
    });
    assert.deepEqual(first, token());
    assert.deepEqual(await store.tokens.get(KEY), token());
    const second = await store.tokens.update(KEY, async (current) => {
      seen.push(current);
      return token({ accessToken: 'at-2', refreshToken: 'rt-2' });
    });
    assert.deepEqual(second, token({ accessToken: 'at-2', refreshToken: 'rt-2' }));
    assert.deepEqual(seen, [undefined, token()]);
  });

  test('tokens: update whose renew returns undefined keeps the stored record and resolves with it', async ({ setup }) => {
    const { store } = await setup();
    await store.tokens.set(KEY, token());
    assert.deepEqual(await store.tokens.update(KEY, async () => undefined), token());
    assert.deepEqual(await store.tokens.get(KEY), token());
    assert.equal(await store.tokens.update('none', async () => undefined), undefined);
  });

  test('tokens: update whose renew throws writes nothing and rejects with what it threw; the key is free afterwards', async ({ setup }) => {
    const { store } = await setup();
    await store.tokens.set(KEY, token());
    const boom = new Error('token endpoint down');
    await assert.rejects(
      store.tokens.update(KEY, async () => {
        throw boom;
      }),
      (e) => e === boom,
    );
    assert.deepEqual(await store.tokens.get(KEY), token());
    assert.deepEqual(await store.tokens.update(KEY, async () => token({ accessToken: 'at-after' })), token({ accessToken: 'at-after' }));
  });

  test('tokens: two stores updating one key at once take turns: the second renew runs after the first committed, and sees its record', async ({ setup, open }) => {
    const { clock, store } = await setup();
    const other = await open(clock);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let entered!: () => void;
    const firstEntered = new Promise<void>((resolve) => (entered = resolve));
    const events: string[] = [];
    const first = store.tokens.update(KEY, async (current) => {
      events.push(`first saw ${current?.accessToken ?? 'nothing'}`);
      entered();
      await gate;
      events.push('first returns');
      return token({ accessToken: 'at-first' });
    });
    await firstEntered;
    let secondEntered!: () => void;
    const secondIn = new Promise<void>((resolve) => (secondEntered = resolve));
    const second = other.tokens.update(KEY, async (current) => {
      events.push(`second saw ${current?.accessToken ?? 'nothing'}`);
      secondEntered();
      // Still due for the second only if nobody renewed it: then it would renew too.
      return current === undefined ? token({ accessToken: 'at-second' }) : undefined;
    });
    // With the lock, the second cannot enter while the first holds it: the wait ends on its bound.
    // Without one it would enter at once, and the order below would show it.
    await Promise.race([secondIn, new Promise((resolve) => setTimeout(resolve, 300))]);
    release();
    const [a, b] = await Promise.all([first, second]);
    assert.deepEqual(events, ['first saw nothing', 'first returns', 'second saw at-first']);
    assert.equal(a?.accessToken, 'at-first');
    assert.equal(b?.accessToken, 'at-first');
    assert.equal((await store.tokens.get(KEY))?.accessToken, 'at-first');
  });
}
