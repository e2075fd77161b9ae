/**
 * @module config/schema
 * The root of `junction.yaml`: one zod schema gives the parsing, the defaults,
 * the TypeScript types and the published JSON Schema (`junction schema`).
 * Component schemas live beside their components and are assembled here.
 */
import { z } from 'zod';
import { retryOptions } from '../connectors/options.ts';
import { connectorTypes, type ConnectorOptions } from '../connectors/registry.ts';
import { stepTypes } from '../steps/registry.ts';
import { triggerTypes } from '../triggers/registry.ts';
import { keyedEntry, typedEntry } from './registry-entry.ts';
import { redactOption } from '../observability/mask.ts';
import { tracingOptions } from '../observability/tracing-config.ts';
import { secret } from '../core/secret-field.ts';
import { duration } from '../core/duration.ts';
import { alertsOptions } from '../observability/alert-options.ts';

/** A step is written `- map: {…}`: one key, the step type, holding its options. */
export const stepEntry = keyedEntry(stepTypes, 'step', 'One step: a single key naming its type (validate, map, deliver, …) and holding its options.');

export type StepConfig = z.output<typeof stepEntry>;

/** `trigger: { http: {…} }`: one key, the trigger type, holding its options. */
export const triggerEntry = keyedEntry(triggerTypes, 'trigger', 'What starts the flow: a single key naming the trigger type (http, …) and holding its options.');

export type TriggerConfig = z.output<typeof triggerEntry>;

/** `{ type: rest, … }`: the options of the connector type that `type` names. */
export const connectorEntry = typedEntry<ConnectorOptions>(connectorTypes, 'connector', 'An external system; `type` picks the protocol (rest, …) and its options.');

export const flowOptions = z
  .strictObject({
    description: z.string().optional().describe('A note for the people who read this config.'),
    trigger: triggerEntry,
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

export const metricsOptions = z
  .strictObject({
    enabled: z.boolean().default(true).describe('Serve Prometheus metrics at /metrics, without a token; false: no such route, nothing is counted.'),
    port: z
      .int()
      .min(0)
      .max(65535)
      .optional()
      .describe('Serve /metrics on a server of its own on this port (0 picks a free one), and not on the main server. Unset: on the main server.'),
    host: serverOptions.shape.host
      .unwrap()
      .optional()
      .describe('Interface of the metrics server of its own; default server.host. Needs port.'),
  })
  .refine((m) => m.host === undefined || m.port !== undefined, { path: ['host'], message: 'host needs port: without one, /metrics is served by the main server, on server.host' })
  .describe('Prometheus metrics: per flow, connector and consumer (requests, outcomes, latency, queue depth, dead letters, circuit state).');

export const workerOptions = z
  .strictObject({
    concurrency: z.int().min(1).max(10_000).default(32).describe('Messages processed at once by this process.'),
    prefetch: z
      .int()
      .min(0)
      .max(10_000)
      .default(32)
      .describe(
        'Messages this process may take, as they are stored, beyond `concurrency`: leased to it and started as slots free, so they need no claim from the queue. 0 hands a message over at ingest only when a slot is free. On PostgreSQL, the messages waiting here are this node\'s until it dies (then their leases run out).',
      ),
    leaseMs: z.int().min(100).default(30_000).describe('A claimed message is held this long (renewed while it runs); after a crash it is claimable again when its lease expires.'),
    pollMs: z.int().min(1).default(200).describe('How often an idle worker looks for due messages.'),
    drainMs: z.int().min(0).default(10_000).describe('On SIGTERM, how long in-flight work may finish before its lease is released.'),
  })
  .describe('The worker loop that claims and processes messages.');

export const DEFAULT_STORE_URL = 'sqlite:./data/junction.db';

const storeUrlString = z
  .string()
  .regex(/^(sqlite:.+|postgres(ql)?:\/\/.+)/, 'use sqlite:PATH or postgres://USER@HOST:PORT/DATABASE')
  .describe(
    'Where state lives. sqlite:PATH is relative to the config file. postgres://USER:PASSWORD@HOST:PORT/DATABASE is shared by every node pointed at it; add ?schema=NAME (default: the server\'s search_path), pool_max=N (connections per node, default 10) and statement_timeout=MS (default 30000).',
  );

export const retentionOptions = z
  .strictObject({
    done: duration
      .default(7 * 86_400_000)
      .describe('How long a done message is kept after it was done; default 7d. Its idempotency key is remembered that long, so this is the dedupe window.'),
    dead: duration.default(30 * 86_400_000).describe('How long a dead letter is kept after it died, unreplayed, before it is deleted; default 30d.'),
    sweepEvery: duration.default(60_000).describe('How often the sweeper looks for rows past their retention (default 1m); it deletes them in batches of 500, pausing between batches.'),
  })
  .describe('Bounded state: done messages and dead letters older than this are deleted, oldest first, in small batches.');

/** The store as the engine uses it: the URL and the retention, in milliseconds. */
export interface StoreOptions {
  url: string;
  retention: z.output<typeof retentionOptions>;
}

/** `store: sqlite:PATH` or `postgres://…`, or `store: { url, retention }`; either way the output is {@link StoreOptions}. */
export const storeOptions = z
  .union([
    storeUrlString,
    z
      .strictObject({
        url: storeUrlString.default(DEFAULT_STORE_URL),
        retention: retentionOptions.prefault({}),
      })
      .describe('The store with its settings.'),
  ])
  .default(DEFAULT_STORE_URL)
  .transform((v): StoreOptions => (typeof v === 'string' ? { url: v, retention: retentionOptions.parse({}) } : v))
  .describe('Where state lives: sqlite:PATH (relative to the config file) or postgres://…, or { url, retention: { done: 7d, dead: 30d } }.');

/** The name of a connector or a flow, chosen by the user. */
export const componentName = z.string().regex(/^[A-Za-z][\w-]*$/, 'letters, digits, - and _');

export const configSchema = z
  .strictObject({
    $schema: z.string().optional().describe('URL or path of the JSON Schema (`junction schema`), for editors; Junction ignores it.'),
    store: storeOptions,
    server: serverOptions.prefault({}),
    worker: workerOptions.prefault({}),
    metrics: metricsOptions.prefault({}),
    log: z
      .strictObject({
        level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('Least severe level written.'),
        format: z
          .enum(['json', 'pretty'])
          .optional()
          .describe('json: one JSON object a line (pino); pretty: coloured, readable lines (pino-pretty). Default: pretty when stdout is a terminal, else json.'),
      })
      .prefault({})
      .describe('Logs (pino): JSON lines, or pretty ones at a terminal; secrets redacted.'),
    tracing: tracingOptions,
    connectors: z
      .record(componentName, connectorEntry)
      .default({})
      .describe('External systems, each under a name of your choice; steps refer to them by that name.'),
    flows: z
      .record(componentName, flowOptions)
      .describe('Flows, each under a name of your choice (used by logs, the admin API and `junction dlq`).'),
    alerts: alertsOptions.optional(),
  })
  .describe('Junction configuration (junction.yaml).');

export type JunctionConfig = z.output<typeof configSchema>;
export type JunctionConfigInput = z.input<typeof configSchema>;
export type FlowConfig = z.output<typeof flowOptions>;
