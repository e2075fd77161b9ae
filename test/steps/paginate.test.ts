/**
 * Pagination (docs/triggers.md#pagination): each of the four styles reads
 * 1,000 records in pages of 50 from a real loopback listing, every record once,
 * and stops where the style says; `maxPages` bounds a walk. Driven through the
 * `call` step, which gathers the pages into one array body.
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { isJunctionError } from '../../src/core/errors.ts';
import { callOptions, callStep } from '../../src/steps/call.ts';
import { nextLink, paginateOptions, relativePath, withParam } from '../../src/steps/paginate.ts';
import { testRestConnector } from '../helpers/connector.ts';
import { startListing, type Listing } from '../helpers/listing.ts';
import { message, stepContext, stepDeps } from '../helpers/step.ts';

const STYLES = {
  link: { path: '/link/items', paginate: { link: 'next' } },
  cursor: { path: '/cursor/items', paginate: { cursor: { param: 'cursor', from: 'next_cursor' }, items: 'data' } },
  offset: { path: '/offset/items', paginate: { offset: { param: 'offset', limit: 50, limitParam: 'limit' }, items: 'items' } },
  page: { path: '/page/items', paginate: { page: { param: 'page', size: 50 }, items: 'items' } },
} as const;

async function callAll(t: TestContext, listing: Listing, path: string, paginate: unknown): Promise<{ id: string }[]> {
  const connector = testRestConnector(t, 'listing', { baseUrl: listing.url });
  const step = await callStep.create(
    callOptions.parse({ connector: 'listing', request: { method: 'GET', path }, paginate }),
    stepDeps({ connector: () => connector }),
  );
  const out = await step(message({}), stepContext());
  assert.ok(!Array.isArray(out) && typeof out === 'object' && 'body' in out);
  assert.equal(out.headers['content-type'], 'application/json');
  return out.body as { id: string }[];
}

describe('pagination', () => {
  for (const [style, { path, paginate }] of Object.entries(STYLES)) {
    it(`${style}: 1,000 records in pages of 50 yield every record once, in order`, async (t) => {
      const listing = await startListing(t, { count: 1000 });
      const records = await callAll(t, listing, path, paginate);
      assert.equal(records.length, 1000);
      assert.deepEqual(records.map((r) => r.id), listing.records.map((r) => r.id));
      // 20 full pages; the styles that stop on a short or empty page ask once more.
      const expected = style === 'offset' || style === 'page' ? 21 : 20;
      assert.equal(listing.requests.length, expected, listing.requests.slice(-3).join(' '));
    });
  }

  it('a short page is the last: 120 records in pages of 50 take three requests', async (t) => {
    const listing = await startListing(t, { count: 120 });
    const records = await callAll(t, listing, STYLES.page.path, STYLES.page.paginate);
    assert.equal(records.length, 120);
    assert.deepEqual(listing.requests, ['/page/items?page=1', '/page/items?page=2', '/page/items?page=3']);
  });

  it('maxPages bounds a walk: a listing that has more stops there', async (t) => {
    const listing = await startListing(t, { count: 1000 });
    const records = await callAll(t, listing, STYLES.cursor.path, { ...STYLES.cursor.paginate, maxPages: 3 });
    assert.equal(records.length, 150);
    assert.equal(listing.requests.length, 3);
  });

  it('an empty listing is one request and no records', async (t) => {
    const listing = await startListing(t, { count: 0 });
    for (const { path, paginate } of Object.values(STYLES)) assert.deepEqual(await callAll(t, listing, path, paginate), []);
    assert.equal(listing.requests.length, 4);
  });

  it('a page whose body is not an array, with no items expression, is JNC_PAGE_INVALID', async (t) => {
    const listing = await startListing(t, { count: 10 });
    await assert.rejects(callAll(t, listing, STYLES.cursor.path, { link: 'next' }), (e) => isJunctionError(e) && e.code === 'JNC_PAGE_INVALID');
  });

  it('keeps the request\'s own query when it adds its parameter', () => {
    assert.equal(withParam('/items?updated_after=x&a=1', 'page', '2'), '/items?updated_after=x&a=1&page=2');
    assert.equal(withParam('/items?page=1', 'page', '2'), '/items?page=2');
  });

  it('reads rel="next" among other links, and keeps a base URL prefix out of the path', () => {
    assert.equal(nextLink('<https://h/api/items?p=1>; rel="prev", <https://h/api/items?p=3>; rel="next"'), 'https://h/api/items?p=3');
    assert.equal(nextLink('<https://h/items?p=1>; rel="first"'), undefined);
    assert.equal(relativePath('/items?p=2', 'https://h/api/items?p=3'), '/items?p=3');
    assert.equal(relativePath('/items', '/other?p=3'), '/other?p=3');
  });

  it('refuses an option in no style, naming what is accepted', () => {
    assert.equal(paginateOptions.safeParse({ offset: { param: 'o' } }).success, false);
    assert.equal(paginateOptions.safeParse({ link: 'next', maxPages: 0 }).success, false);
  });
});
