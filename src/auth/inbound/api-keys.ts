/**
 * @module auth/inbound/api-keys
 * `http.auth.apiKeys`: callers send one of the trigger's keys, in `X-Api-Key`
 * or as `Authorization: Bearer <key>`. A trigger holds several keys at once so
 * that a key is rotated with no downtime: add the new key, move the callers,
 * remove the old one. Each key names its consumer (logs, `meta.consumer`,
 * rate limits); two keys may name the same consumer, as the old and new key do
 * while it is rotated.
 *
 * Keys are held as SHA-256 digests and compared in constant time against every
 * key, so neither the time an answer takes nor its text tells anything about
 * the keys. A key read from `${file:…}` follows its file: it is hashed again
 * when the file changes.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { z } from 'zod';
import type { Secret } from '../../core/secret.ts';
import { secret } from '../../core/secret-field.ts';
import { errors } from '../../core/errors.ts';
import { bearerCredential, consumerName, credentialDigest, defineAuthenticator } from './inbound.ts';

const keyEntry = z.union([
  secret,
  z.strictObject({
    key: secret.describe('The key; use ${env:NAME} or ${file:path}.'),
    consumer: consumerName
      .optional()
      .describe('Names the caller in logs, rate limits and meta.consumer; defaults to key-N (N its place in the list, from 1).'),
  }),
], { error: 'expected a key (a string: ${env:NAME} or ${file:path}) or { key, consumer }' });

export const apiKeysOptions = z
  .array(keyEntry)
  .min(1, 'list at least one key')
  .describe(
    'Keys that admit a caller, sent as X-Api-Key or Authorization: Bearer. Each is a secret (${env:NAME} or ${file:path}) or { key, consumer }. List the old and the new key together to rotate one without downtime.',
  );

interface HeldKey {
  readonly consumer: string;
  readonly secret: Secret;
  revision: number;
  digest: Buffer;
}

const MISSING = 'send an API key in X-Api-Key or Authorization: Bearer';
const INVALID = 'the API key is not valid';

export const apiKeys = defineAuthenticator({
  name: 'apiKeys',
  summary: 'Shared keys, sent as X-Api-Key or Authorization: Bearer; several at once for rotation.',
  options: apiKeysOptions,
  create(options, { logger }) {
    const keys: HeldKey[] = options.map((entry, i) => {
      const s = 'key' in entry ? entry.key : entry;
      const consumer = ('key' in entry ? entry.consumer : undefined) ?? `key-${i + 1}`;
      return { consumer, secret: s, revision: s.revision(), digest: credentialDigest(s.reveal()) };
    });
    for (const [i, k] of keys.entries()) {
      const twin = keys.slice(i + 1).find((o) => o.consumer !== k.consumer && o.digest.equals(k.digest));
      // The same key for two consumers would make who is calling a matter of list order.
      if (twin) throw errors.CONFIG_INVALID.create([`http.auth.apiKeys: ${k.consumer} and ${twin.consumer} have the same key; give each consumer its own`]);
    }

    // A key read from a file that changed is hashed again before it is compared; others cost a number comparison.
    const digestOf = (k: HeldKey): Buffer => {
      const revision = k.secret.revision();
      if (revision !== k.revision) {
        k.digest = credentialDigest(k.secret.reveal());
        k.revision = revision;
        logger.info({ consumer: k.consumer }, 'API key changed on disk; the new key is in effect');
      }
      return k.digest;
    };

    return async (req) => {
      const presented = presentedKey(req.headers);
      if (presented === undefined) throw errors.AUTH_DENIED.create([MISSING]);
      const digest = credentialDigest(presented);
      let match: HeldKey | undefined;
      for (const k of keys) {
        // Every key is compared, even after a match, so the time taken does not tell which key matched.
        const same = timingSafeEqual(digest, digestOf(k));
        if (same && match === undefined) match = k;
      }
      if (match === undefined) throw errors.AUTH_DENIED.create([INVALID]);
      return { consumer: match.consumer, via: 'apiKeys' };
    };
  },
});

/** The key the request carries: `X-Api-Key`, else a Bearer credential; undefined when neither holds one. */
function presentedKey(headers: IncomingHttpHeaders): string | undefined {
  const header = headers['x-api-key'];
  const direct = (Array.isArray(header) ? header[0] : header)?.trim();
  if (direct) return direct;
  return bearerCredential(headers.authorization);
}
