/**
 * @module policies/classify
 * What an HTTP status means for the message (DESIGN.md, "Default classification").
 * A table rather than a chain of ifs, so that a connector can override single
 * statuses or whole classes without re-stating the rest.
 */
import type { Classification } from '../core/call.ts';

/** A status class such as `4xx`, or one status such as `404`. */
export type StatusKey = `${1 | 2 | 3 | 4 | 5}xx` | number;

/** Status → classification; an exact status wins over its class. */
export type ClassificationTable = Readonly<Partial<Record<StatusKey, Classification>>>;

/**
 * The default table. Redirects are not followed, so a 3xx is a configuration
 * mistake (wrong base URL) and retrying it cannot help: permanent.
 */
export const DEFAULT_CLASSIFICATION: ClassificationTable = Object.freeze({
  '1xx': 'permanent',
  '2xx': 'ok',
  '3xx': 'permanent',
  '4xx': 'permanent',
  '5xx': 'retry',
  401: 'refresh',
  408: 'retry',
  429: 'retry',
});

/**
 * Builds a classifier from the default table plus `overrides`.
 * A status outside 100–599 is `permanent`: nothing sane answered.
 */
export function createClassifier(overrides: ClassificationTable = {}): (status: number) => Classification {
  const table: ClassificationTable = { ...DEFAULT_CLASSIFICATION, ...overrides };
  return function classify(status: number): Classification {
    const exact = table[status];
    if (exact !== undefined) return exact;
    const cls = Math.floor(status / 100);
    if (cls < 1 || cls > 5) return 'permanent';
    return table[`${cls as 1 | 2 | 3 | 4 | 5}xx`] ?? 'permanent';
  };
}

/** Classifies with {@link DEFAULT_CLASSIFICATION}. */
export const defaultClassify: (status: number) => Classification = createClassifier();
