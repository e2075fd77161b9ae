/**
 * @module policies/cache-headers
 * Reading the headers that decide caching: `Cache-Control`, `Vary`, `ETag`.
 *
 * The parsing is undici's own (`lib/util/cache.js`, what its cache interceptor
 * uses): quoted values, repeated and malformed directives, qualified `no-cache`
 * are all handled there, and tested there. It is not part of undici's public
 * API, so it is reached through one `require` here and typed with the subset we
 * read; `test/policies/cache.test.ts` fails if an undici upgrade moves it.
 */
import { createRequire } from 'node:module';

/** The directives the cache policy reads (RFC 9111 §5.2, RFC 5861). Seconds. */
export interface CacheControl {
  'max-age'?: number;
  'stale-if-error'?: number;
  'no-store'?: true;
  /** `true`, or the header names of a qualified `no-cache="…"`; either way: revalidate every time. */
  'no-cache'?: true | string[];
  'must-revalidate'?: true;
  'proxy-revalidate'?: true;
}

interface UndiciCacheUtil {
  parseCacheControlHeader(header: string | string[]): CacheControl;
  isEtagUsable(etag: string): boolean;
}

const util = createRequire(import.meta.url)('undici/lib/util/cache.js') as UndiciCacheUtil;

/** The directives of a `Cache-Control` value; none when absent. */
export function parseCacheControl(header: string | undefined): CacheControl {
  return header === undefined || header === '' ? {} : util.parseCacheControlHeader(header);
}

/** An ETag worth sending back in `If-None-Match` (a quoted strong or weak tag). */
export function isEtagUsable(etag: string | undefined): etag is string {
  return etag !== undefined && util.isEtagUsable(etag);
}

/**
 * The request header names a `Vary` value lists (lower case), or `undefined` for
 * `Vary: *` or a name that is not a header: such an answer cannot be matched to
 * a later request, so it is not stored.
 */
export function varyNames(header: string | undefined): string[] | undefined {
  if (header === undefined) return [];
  const names: string[] = [];
  for (const part of header.split(',')) {
    const name = part.trim().toLowerCase();
    if (name === '') continue;
    if (!/^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(name) || name === '*') return undefined;
    names.push(name);
  }
  return names;
}
