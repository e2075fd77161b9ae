/**
 * @module steps/paginate
 * Reading a listing that a server splits into pages, in one of four styles
 * (DESIGN.md, the poll trigger):
 *
 * - `{ link: next }`: follow the `Link` header's `rel="next"` (RFC 8288), as
 *   GitHub does; it stops when a page has no such link.
 * - `{ cursor: { param, from }, items }`: send the cursor the last page gave
 *   (`from`, an expression on its body) as the query parameter `param`; it stops
 *   when a page gives no cursor or no records.
 * - `{ offset: { param, limit }, items }`: `param` counts the records skipped;
 *   it stops on a page shorter than `limit`.
 * - `{ page: { param, size, start }, items }`: `param` numbers the pages; it
 *   stops on a page shorter than `size`.
 * - `{ relay: <connection> }` (GraphQL connectors only): the same document is
 *   sent again with the variable `after` set to the last page's
 *   `<connection>.pageInfo.endCursor`; the records are the connection's
 *   `edges[].node` (or `nodes`); it stops when `pageInfo.hasNextPage` is false.
 *
 * Every style stops after `maxPages` pages too, so a server that always says
 * "more" cannot keep a poll or a step running for ever. `items` is a JSONata
 * expression that picks the records out of a page's body (default: the body
 * itself, an array).
 *
 * Used by the `call` step (every page gathered into one array body) and the
 * poll trigger (each page's records become messages as they arrive), so the
 * page walk is an async generator that the caller drives: it never holds more
 * than one page unless it gathers them.
 */
import { z } from 'zod';
import type { OutboundResponse } from '../core/call.ts';
import { errors } from '../core/errors.ts';
import { compileExpression, expression, type Expression } from '../core/expression.ts';
import type { Json } from '../core/message.ts';
import type { Connector } from '../connectors/connector.ts';
import { connectorTypes } from '../connectors/registry.ts';

const param = z.string().min(1);
/** GraphQL names (and aliases) joined by dots. */
const CONNECTION_PATH = /^[_A-Za-z][_0-9A-Za-z]*(\.[_A-Za-z][_0-9A-Za-z]*)*$/;
const common = {
  items: expression.optional().describe('JSONata expression that picks the records out of a page\'s body; default: the body itself (an array).'),
  maxPages: z.int().min(1).max(100_000).default(100).describe('At most this many pages are read per run: a server that always says "more" cannot keep it going.'),
};

export const paginateOptions = z
  .union([
    z.strictObject({
      link: z.literal('next').describe('Follow the Link header\'s rel="next" until a page has none.'),
      ...common,
    }),
    z.strictObject({
      cursor: z
        .strictObject({
          param: param.describe('Query parameter that carries the cursor.'),
          from: expression.describe('JSONata expression on a page\'s body that gives the next cursor; nothing, null or "" ends the walk.'),
        })
        .describe('Cursor pagination.'),
      ...common,
    }),
    z.strictObject({
      offset: z
        .strictObject({
          param: param.default('offset').describe('Query parameter that counts the records skipped.'),
          limit: z.int().min(1).max(10_000).describe('Records per page; a shorter page is the last.'),
          limitParam: param.optional().describe('Query parameter that carries `limit`, when the server takes one (e.g. limit).'),
        })
        .describe('Offset pagination.'),
      ...common,
    }),
    z.strictObject({
      page: z
        .strictObject({
          param: param.default('page').describe('Query parameter that numbers the pages.'),
          size: z.int().min(1).max(10_000).describe('Records per page; a shorter page is the last.'),
          start: z.int().min(0).default(1).describe('Number of the first page.'),
          sizeParam: param.optional().describe('Query parameter that carries `size`, when the server takes one (e.g. per_page).'),
        })
        .describe('Page-number pagination.'),
      ...common,
    }),
    z.strictObject({
      relay: z
        .string()
        .regex(CONNECTION_PATH, 'expected the dot path of a connection field in the answer\'s data, e.g. orders or viewer.orders')
        .describe('GraphQL connectors: dot path of the Relay connection in the answer\'s data (e.g. orders or viewer.orders). Each page sends the variable `after` = the last page\'s pageInfo.endCursor; the records are edges[].node (or nodes); it stops when pageInfo.hasNextPage is false.'),
      maxPages: common.maxPages,
    }),
  ])
  .describe('Read every page of a listing: { link: next } | { cursor: { param, from }, items } | { offset: { param, limit }, items } | { page: { param, size }, items } | { relay: connection } (GraphQL).');

export type PaginateOptions = z.output<typeof paginateOptions>;

/** One page read: its records, its number (from 1), and whether the walk stopped at `maxPages` with more to read. */
export interface Page {
  records: Json[];
  number: number;
  /** Set on the last page when the walk stopped at `maxPages` although the server had more. */
  truncated: boolean;
}

/**
 * One page's request: its path (with the page's query, for the path-based
 * styles) and, for relay, the cursor the request sends as its variable `after`
 * (absent on the first page).
 */
export interface PageRequest {
  path: string;
  after?: string | undefined;
}

/** Sends one page's request; resolves with a success, rejects otherwise. */
export type SendPage = (page: PageRequest) => Promise<OutboundResponse>;

/** A compiled `paginate` option: walks the pages from the first request's path. */
export interface Paginator {
  /** True for `relay`, which only a connector type whose request carries the cursor can follow (GraphQL). */
  readonly relay: boolean;
  pages(firstPath: string, send: SendPage, connector: Pick<Connector, 'name' | 'read'>): AsyncGenerator<Page>;
}

/**
 * Refuses a style the connector's request cannot follow: `relay` needs a
 * request that carries the cursor (GraphQL), and the others change a path that
 * such a request does not have. Throws JNC_CONFIG_INVALID, at start-up.
 */
export function checkPaginateFits(options: PaginateOptions, connector: { name: string; type: string }): void {
  const relay = 'relay' in options;
  // A type whose request carries the page's cursor (GraphQL) pages by relay; the others by their path.
  if (relay === (connectorTypes.get(connector.type)?.request.relay === true)) return;
  const why = relay
    ? `paginate.relay follows GraphQL connections, but connector ${connector.name} is of type ${connector.type}; use link, cursor, offset or page`
    : `connector ${connector.name} (type ${connector.type}) sends its cursor in the request's variables; use paginate: { relay: <connection> }`;
  throw errors.CONFIG_INVALID.create([why]);
}

export function compilePaginate(options: PaginateOptions): Paginator {
  if ('relay' in options) return relayPaginator(options.relay.split('.'), options.maxPages);
  const items = options.items === undefined ? undefined : compileExpression(options.items);
  const from = 'cursor' in options ? compileExpression(options.cursor.from) : undefined;
  return {
    relay: false,
    async *pages(firstPath, send, { name: connector, read }) {
      let path = firstPath;
      if ('offset' in options) {
        path = withParam(path, options.offset.param, '0');
        if (options.offset.limitParam) path = withParam(path, options.offset.limitParam, String(options.offset.limit));
      } else if ('page' in options) {
        path = withParam(path, options.page.param, String(options.page.start));
        if (options.page.sizeParam) path = withParam(path, options.page.sizeParam, String(options.page.size));
      }
      let offset = 0;
      for (let number = 1; ; number++) {
        const res = await send({ path });
        const body = read(res).body;
        const records = await recordsOf(items, body, connector, number);
        const next = await nextPath(path, res, body, records.length, number);
        const truncated = next !== undefined && number >= options.maxPages;
        yield { records, number, truncated };
        if (next === undefined || truncated) return;
        path = next;
      }

      /** The next page's path, or undefined when this page is the last. */
      async function nextPath(current: string, res: OutboundResponse, body: Json, count: number, number: number): Promise<string | undefined> {
        if ('link' in options) {
          const link = nextLink(res.headers.link);
          return link === undefined ? undefined : relativePath(current, link);
        }
        if ('cursor' in options) {
          if (count === 0) return undefined;
          const cursor = await from!.evaluate(body, { headers: res.headers, meta: {} });
          if (cursor === undefined || cursor === null || cursor === '') return undefined;
          if (typeof cursor !== 'string' && typeof cursor !== 'number') {
            throw errors.PAGE_INVALID.create([connector, number, `cursor.from ${options.cursor.from} gave a ${typeof cursor}; it must give a string or a number`]);
          }
          return withParam(current, options.cursor.param, String(cursor));
        }
        if ('offset' in options) {
          if (count < options.offset.limit) return undefined;
          offset += count;
          return withParam(current, options.offset.param, String(offset));
        }
        if (!('page' in options) || count < options.page.size) return undefined;
        return withParam(current, options.page.param, String(options.page.start + number));
      }
    },
  };
}

/**
 * Relay cursor pagination: the same request each time, `after` the last
 * page's `endCursor`, until `hasNextPage` is false (GraphQL Cursor Connections
 * Specification).
 */
function relayPaginator(connection: readonly string[], maxPages: number): Paginator {
  const at = connection.join('.');
  return {
    relay: true,
    async *pages(firstPath, send, { name: connector, read }) {
      let after: string | undefined;
      for (let number = 1; ; number++) {
        const body = read(await send({ path: firstPath, after })).body;
        let conn: unknown = body;
        for (const key of connection) conn = isObject(conn) ? conn[key] : undefined;
        if (conn === undefined) throw errors.PAGE_INVALID.create([connector, number, `the answer's data has no ${at}; name the connection with paginate.relay`]);
        // A null connection (a nullable field with nothing to list) is an empty last page.
        const records = conn === null ? [] : relayRecords(conn, at, connector, number);
        const info = isObject(conn) && isObject(conn.pageInfo) ? conn.pageInfo : undefined;
        if (conn !== null && info === undefined) throw errors.PAGE_INVALID.create([connector, number, `${at} has no pageInfo; select pageInfo { hasNextPage endCursor } in the document`]);
        const more = info?.hasNextPage === true;
        if (more && (typeof info.endCursor !== 'string' || info.endCursor === '')) {
          throw errors.PAGE_INVALID.create([connector, number, `${at}.pageInfo says hasNextPage but gives no endCursor to go on from`]);
        }
        const truncated = more && number >= maxPages;
        yield { records, number, truncated };
        if (!more || truncated) return;
        after = info.endCursor as string;
      }
    },
  };
}

/** A connection's records: `edges[].node`, or `nodes` when the document selects those instead. */
function relayRecords(conn: unknown, at: string, connector: string, number: number): Json[] {
  if (isObject(conn) && Array.isArray(conn.edges)) return conn.edges.map((e) => (isObject(e) ? (e.node ?? null) : null)) as Json[];
  if (isObject(conn) && Array.isArray(conn.nodes)) return conn.nodes as Json[];
  throw errors.PAGE_INVALID.create([connector, number, `${at} has neither edges nor nodes; select edges { node { … } } or nodes { … }`]);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Every page's records in one array: what the `call` step makes its body. */
export async function gatherPages(pages: AsyncIterable<Page>): Promise<Json[]> {
  const all: Json[] = [];
  for await (const page of pages) all.push(...page.records);
  return all;
}

async function recordsOf(items: Expression | undefined, body: Json, connector: string, number: number): Promise<Json[]> {
  const v = items === undefined ? body : await items.evaluate(body, { headers: {}, meta: {} });
  // JSONata gives a one-record sequence as the record itself, and an empty one as nothing.
  if (v === undefined || v === null) return [];
  if (Array.isArray(v)) return v as Json[];
  if (items !== undefined) return [v as Json];
  throw errors.PAGE_INVALID.create([connector, number, `the body is ${typeof v === 'object' ? 'an object' : `a ${typeof v}`}, not an array of records; name them with items`]);
}

/** Sets one query parameter of a path, keeping the others. */
export function withParam(path: string, name: string, value: string): string {
  const q = path.indexOf('?');
  const params = new URLSearchParams(q === -1 ? '' : path.slice(q + 1));
  params.set(name, value);
  return `${q === -1 ? path : path.slice(0, q)}?${params.toString()}`;
}

/** The target of the `rel="next"` link in a Link header, or undefined. */
export function nextLink(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  for (const m of header.matchAll(/<([^>]*)>((?:\s*;\s*[^;,]+)*)/g)) {
    const rel = /;\s*rel\s*=\s*"?([^";]+)"?/i.exec(m[2] ?? '');
    if (rel && rel[1]!.toLowerCase().split(/\s+/).includes('next')) return m[1];
  }
  return undefined;
}

/**
 * A next link as a path for the connector, which prefixes its base URL's path.
 * The link is absolute (or relative to the page); when its path ends with the
 * current request's path, that one is kept with the link's query, so a base URL
 * with a path prefix (`http://h/api`) is not repeated.
 */
export function relativePath(current: string, link: string): string {
  const q = current.indexOf('?');
  const currentPath = q === -1 ? current : current.slice(0, q);
  const url = new URL(link, `http://page.invalid${currentPath.startsWith('/') ? '' : '/'}${currentPath}`);
  const p = currentPath.startsWith('/') ? currentPath : `/${currentPath}`;
  const path = url.pathname.endsWith(p) ? currentPath : url.pathname;
  return `${path}${url.search}`;
}
