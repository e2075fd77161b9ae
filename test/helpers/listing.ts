/**
 * @module test/helpers/listing
 * A listing API on loopback that pages its records in each style the
 * `paginate` option reads, for the pagination and poll tests:
 *
 * - `/link/items?p=N`: an array, and `Link: <…?p=N+1>; rel="next"` while more remain;
 * - `/cursor/items?cursor=C`: `{ data, next_cursor }`, no cursor on the last page;
 * - `/offset/items?offset=O&limit=L`: `{ items }`;
 * - `/page/items?page=N` (from 1): `{ items }`.
 *
 * Records are `{ id: 'r-1', updatedAt: '2025-01-01T00:00:01.000Z', n: 1 }`,
 * sorted by `updatedAt`; `updated_after` (exclusive) filters them. `onPage`
 * sees each request before it is answered, so a test may hold one back.
 */
import type { TestContext } from 'node:test';
import { serve, type Served } from './servers.ts';

export interface ListingRecord {
  id: string;
  updatedAt: string;
  n: number;
}

export interface Listing extends Served {
  records: ListingRecord[];
  /** Paths asked for, in order. */
  readonly requests: string[];
  /** Adds records after the last (as if they were created since). */
  add(count: number): void;
}

const BASE_MS = Date.UTC(2025, 0, 1);

export function listingRecord(n: number): ListingRecord {
  return { id: `r-${n}`, updatedAt: new Date(BASE_MS + n * 1000).toISOString(), n };
}

export async function startListing(
  t: TestContext,
  opts: { count: number; pageSize?: number; onPage?: (path: string) => Promise<void> | void },
): Promise<Listing> {
  const size = opts.pageSize ?? 50;
  const records: ListingRecord[] = Array.from({ length: opts.count }, (_, i) => listingRecord(i + 1));
  const requests: string[] = [];
  const served = await serve(t, (req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://listing');
      requests.push(req.url ?? '/');
      await opts.onPage?.(req.url ?? '/');
      const after = url.searchParams.get('updated_after');
      const rows = after === null ? records : records.filter((r) => r.updatedAt > after);
      const json = (body: unknown, headers: Record<string, string> = {}): void => {
        res.writeHead(200, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
      };
      const style = url.pathname.split('/')[1];
      if (style === 'link') {
        const p = Number(url.searchParams.get('p') ?? '1');
        const page = rows.slice((p - 1) * size, p * size);
        const headers: Record<string, string> = {};
        if (p * size < rows.length) {
          const next = new URL(url);
          next.searchParams.set('p', String(p + 1));
          headers.link = `<${served.url}${next.pathname}${next.search}>; rel="next", <${served.url}/link/items?p=1>; rel="first"`;
        }
        return json(page, headers);
      }
      if (style === 'cursor') {
        const start = Number(url.searchParams.get('cursor') ?? '0');
        const page = rows.slice(start, start + size);
        const more = start + size < rows.length;
        return json({ data: page, ...(more ? { next_cursor: String(start + size) } : {}) });
      }
      if (style === 'offset') {
        const offset = Number(url.searchParams.get('offset') ?? '0');
        const limit = Number(url.searchParams.get('limit') ?? String(size));
        return json({ items: rows.slice(offset, offset + limit) });
      }
      if (style === 'page') {
        const p = Number(url.searchParams.get('page') ?? '1');
        return json({ items: rows.slice((p - 1) * size, p * size) });
      }
      res.writeHead(404).end();
    })().catch(() => res.destroy());
  });
  return {
    ...served,
    records,
    requests,
    add(count) {
      const last = records.length;
      for (let i = 1; i <= count; i++) records.push(listingRecord(last + i));
    },
  };
}
