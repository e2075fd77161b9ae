/**
 * @module test/store/contract/tokens
 * tokens: get, set, delete; shared with a second store on the same storage, and
 * kept across close and reopen.
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
}
