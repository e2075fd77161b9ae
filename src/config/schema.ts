/**
 * @module config/schema
 * The root of `junction.yaml`: one zod schema gives the parsing, the defaults,
 * the TypeScript types and the published JSON Schema (`junction schema`).
 * Component schemas live beside their components and are assembled here.
 */
import { z } from 'zod';
import { expression } from '../core/expression.ts';
import { MEDIA_KINDS } from '../core/media.ts';
import { recordsOptions } from '../triggers/records.ts';
import { inboundRateLimitOptions } from '../triggers/rate-limit.ts';
import { inboundAuthOptions } from '../auth/inbound/registry.ts';
import { retryOptions } from '../connectors/options.ts';
import { connectorOptionsSchema } from '../connectors/registry.ts';
import { builtinSteps } from '../steps/builtin.ts';
import { redactOption } from '../observability/mask.ts';
import { secret } from './secret-field.ts';

const stepNames = [...builtinSteps.keys()];

/**
 * A step is written `- map: {…}`: one key, the step type, holding its options.
 * Parsed by hand so that an unknown type says which types exist and an option
 * error keeps its exact path (a plain union would blur both).
 */
export const stepEntry = z
  .record(z.string(), z.unknown())
  .transform((raw, ctx) => {
    const keys = Object.keys(raw);
    if (keys.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        message: `a step has exactly one key, its type (one of ${stepNames.join(', ')}); found ${keys.length === 0 ? 'none' : keys.join(', ')}`,
      });
      return z.NEVER;
    }
    const type = keys[0]!;
    const def = builtinSteps.get(type);
    if (!def) {
      ctx.addIssue({ code: 'custom', path: [type], message: `unknown step type "${type}"; expected one of ${stepNames.join(', ')}` });
      return z.NEVER;
    }
    const parsed = def.options.safeParse(raw[type]);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) ctx.addIssue({ ...issue, path: [type, ...issue.path] } as Parameters<typeof ctx.addIssue>[0]);
      return z.NEVER;
    }
    return { type, options: parsed.data as unknown };
  })
  .describe(`One step: a single key naming its type (${stepNames.join(', ')}) and holding its options.`);

export type StepConfig = z.output<typeof stepEntry>;

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

export const triggerOptions = z
  .strictObject({ http: httpTriggerOptions })
  .describe('What starts the flow.');

export const flowOptions = z
  .strictObject({
    description: z.string().optional().describe('A note for the people who read this config.'),
    trigger: triggerOptions,
    steps: z.array(stepEntry).min(1, 'a flow needs at least one step').describe('Run in order for every message.'),
    retry: retryOptions.prefault({}).describe('Retry policy for failures not tied to a connector; deliver steps use their connector\'s.'),
    redact: redactOption.optional(),
  })
  .describe('A trigger, then an ordered list of steps.');

export const serverOptions = z
  .strictObject({
    port: z.int().min(0).max(65535).default(8080).describe('TCP port to listen on; 0 picks a free one.'),
    host: z
      .union([z.ipv4(), z.ipv6(), z.hostname()], { error: 'expected an IP address (127.0.0.1, ::1, 0.0.0.0) or a host name' })
      .default('127.0.0.1')
      .describe('Interface to listen on; 127.0.0.1 keeps the server local, 0.0.0.0 exposes it.'),
    adminToken: secret.optional().describe('Bearer token every /admin route requires; use ${env:NAME} or ${file:path}. Unset: the admin API answers 404 JNC_ADMIN_DISABLED.'),
    maxBodyBytes: z.int().min(1).default(1024 * 1024).describe('Largest request body accepted by a trigger, in bytes.'),
  })
  .describe('The HTTP server: triggers, health, admin.');

export const workerOptions = z
  .strictObject({
    concurrency: z.int().min(1).max(10_000).default(32).describe('Messages processed at once by this process.'),
    leaseMs: z.int().min(100).default(30_000).describe('A claimed message is held this long (renewed while it runs); after a crash it is claimable again when its lease expires.'),
    pollMs: z.int().min(1).default(200).describe('How often an idle worker looks for due messages.'),
    drainMs: z.int().min(0).default(10_000).describe('On SIGTERM, how long in-flight work may finish before its lease is released.'),
  })
  .describe('The worker loop that claims and processes messages.');

export const storeUrl = z
  .string()
  .regex(/^sqlite:.+/, 'use sqlite:PATH (PostgreSQL comes later)')
  .default('sqlite:./data/junction.db')
  .describe('Where state lives. sqlite:PATH is relative to the config file.');

export const configSchema = z
  .strictObject({
    $schema: z.string().optional().describe('URL or path of the JSON Schema (`junction schema`), for editors; Junction ignores it.'),
    store: storeUrl,
    server: serverOptions.prefault({}),
    worker: workerOptions.prefault({}),
    log: z
      .strictObject({
        level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('Least severe level written.'),
      })
      .prefault({})
      .describe('JSON logs (pino), with secrets redacted.'),
    connectors: z
      .record(z.string().regex(/^[A-Za-z][\w-]*$/, 'letters, digits, - and _'), connectorOptionsSchema())
      .default({})
      .describe('External systems, each under a name of your choice; steps refer to them by that name.'),
    flows: z
      .record(z.string().regex(/^[A-Za-z][\w-]*$/, 'letters, digits, - and _'), flowOptions)
      .describe('Flows, each under a name of your choice (used by logs, the admin API and `junction dlq`).'),
  })
  .describe('Junction configuration (junction.yaml).');

export type JunctionConfig = z.output<typeof configSchema>;
export type JunctionConfigInput = z.input<typeof configSchema>;
export type FlowConfig = z.output<typeof flowOptions>;
export type HttpTriggerConfig = z.output<typeof httpTriggerOptions>;
