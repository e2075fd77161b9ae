/**
 * @module triggers/http-options
 * The options of the http trigger (`trigger: { http: {…} }`), with the trigger
 * they belong to; the config schema reads them through the trigger registry.
 */
import { z } from 'zod';
import { inboundAuthOptions } from '../auth/inbound/registry.ts';
import { expression } from '../core/expression.ts';
import { MEDIA_KINDS } from '../core/media.ts';
import { inboundRateLimitOptions } from './rate-limit.ts';
import { recordsOptions } from './records.ts';

export const httpTriggerOptions = z
  .strictObject({
    path: z
      .string()
      .regex(/^\/[^\s?#]*$/, 'must start with "/" and hold no query or fragment')
      // `:name` and `*` would be route parameters and wildcards to the router: a trigger path is literal.
      .regex(/^[\w./~%-]*$/, 'may hold letters, digits and - . _ ~ % / only (no : or *: a trigger path is literal)')
      .describe('URL path that accepts messages, literally (no parameters or wildcards). A trailing slash makes no difference: /hooks/orders/ reaches the trigger of /hooks/orders, and the other way round. The query string is not part of it (the message keeps it as meta.query).'),
    method: z.enum(['POST', 'PUT']).default('POST').describe('HTTP method the path accepts.'),
    idempotencyKey: expression
      .optional()
      .describe('JSONata over the body ($headers bound) that yields the dedupe key; defaults to the Idempotency-Key header.'),
    maxBodyBytes: z.int().min(1).optional().describe('Largest body accepted; defaults to server.maxBodyBytes.'),
    accept: z
      .array(z.enum(MEDIA_KINDS))
      .min(1)
      .default(['json'])
      .describe('Body kinds accepted: json (application/json, +json), xml (application/xml, text/xml, +xml), csv (text/csv), text (text/plain). Non-JSON bodies are kept as text.'),
    records: recordsOptions.optional(),
    auth: inboundAuthOptions.optional(),
    rateLimit: inboundRateLimitOptions.optional(),
  })
  .describe('Accept messages over HTTP: 202 with the message id once it is durable.');

export type HttpTriggerConfig = z.output<typeof httpTriggerOptions>;
