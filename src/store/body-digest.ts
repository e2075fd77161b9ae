/**
 * @module store/body-digest
 * The digest a store keeps with a dedupe key, to tell a resend of the same message
 * from a key reused for another one (the IETF httpapi Idempotency-Key draft's
 * "fingerprint"; Stripe compares the parameters the same way).
 *
 * It is the SHA-256 of the body's canonical JSON (RFC 8785, JCS: object keys sorted
 * by UTF-16 code units, no whitespace, ECMAScript number and string forms), not of
 * the bytes as received, because:
 * - the body is what a message is: two requests that become the same stored body
 *   are the same message, whatever spacing or key order their sender's serialiser
 *   chose (a failover to another client library must not turn a retry into a 422);
 * - a record of a CSV upload, or a part of a split, has no bytes of its own: it only
 *   exists parsed, so only a digest of the value serves every kind of message;
 * - every store (SQLite today, PostgreSQL next) computes it from the value it is
 *   given, in the same way, so a digest written by one matches the other.
 * A text body (XML, CSV) is a JSON string, so its digest is of its exact text.
 */
import { createHash } from 'node:crypto';
import type { Json } from '../core/message.ts';

/** Lower-case hex SHA-256 of {@link canonicalJson}(body). */
export function bodyDigest(body: Json): string {
  return createHash('sha256').update(canonicalJson(body), 'utf8').digest('hex');
}

/**
 * RFC 8785 canonical JSON. Values JSON cannot hold are treated as JSON.stringify
 * treats them (an undefined property is left out, an undefined array item is null),
 * so the digest is of exactly what the store writes.
 */
export function canonicalJson(value: unknown): string {
  if (value !== null && typeof value === 'object') {
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') return canonicalJson(toJSON.call(value));
    if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item ?? null)).join(',')}]`;
    const record = value as Record<string, unknown>;
    // Array.prototype.sort compares UTF-16 code units, which is JCS's order.
    const members = Object.keys(record)
      .sort()
      .filter((key) => record[key] !== undefined && typeof record[key] !== 'function')
      .map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`);
    return `{${members.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
