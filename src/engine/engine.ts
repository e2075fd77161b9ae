/**
 * @module engine/engine
 * The composition root: a loaded config in, one running Junction out (store,
 * connectors, compiled flows, triggers, the worker and the HTTP server). It
 * sits above every other layer and is the only place that knows them all;
 * `junction run`, the examples and the end-to-end tests start it the same way.
 */
import type { FastifyInstance } from 'fastify';
import type { LoadedConfig } from '../config/load.ts';
import { systemClock, type Clock } from '../core/clock.ts';
import { errors } from '../core/errors.ts';
import { Undo } from '../core/undo.ts';
import { closeConnectors, createConnectors } from '../connectors/registry.ts';
import { listening, publish, subscribe } from '../observability/channels.ts';
import { LiveStats } from '../observability/live-stats.ts';
import { createLogger, type Logger } from '../observability/logger.ts';
import { redactUrl, secretScrub } from '../observability/redact.ts';
import type { Tracing, TracingDeps } from '../observability/tracing.ts';
import { resolveTracing } from '../observability/tracing-config.ts';
import { buildApp } from '../server/app.ts';
import { openStore } from '../store/open.ts';
import { claimedAtEnqueue, type EnqueueResult, type Store } from '../store/store.ts';
import type { HttpRoute } from '../triggers/http-route.ts';
import type { Ingest, IngressCheck } from '../triggers/ingest.ts';
import { triggerTypes } from '../triggers/registry.ts';
import type { Trigger } from '../triggers/trigger.ts';
import type { CompiledFlow } from '../runtime/flow.ts';
import { ResponseHub } from '../runtime/responses.ts';
import { startSweeper, type Sweeper } from '../runtime/retention.ts';
import { Worker } from '../runtime/worker.ts';
import type { FlowSummary } from '../server/admin/views.ts';
import { checkConnectors } from './connector-checks.ts';
import { compileFlows } from './flows.ts';
import { compileAlertFlows, startAlertRules } from './alert-flows.ts';
import type { Alerts } from '../observability/alerts.ts';
import { createMetrics, serveMetrics } from './metrics.ts';

/** The trigger's side of `validate: { at: ingress }`: the flow's ingress steps on the message before it is stored. */
function ingressCheck(flow: CompiledFlow, clock: Clock, logger: Logger): IngressCheck | undefined {
  if (!flow.checksAtIngress) return undefined;
  return (msg) =>
    flow.checkIngress(
      { id: '', attempt: 0, idempotencyKey: msg.dedupeKey ?? '', flow: msg.flow, body: msg.body, headers: msg.headers ?? {}, meta: msg.meta ?? {} },
      { signal: AbortSignal.timeout(10_000), logger, clock },
    );
}

export interface EngineOptions {
  logger?: Logger;
  /** Where the engine's own logger writes when `logger` is not given; default stdout. */
  logDestination?: NodeJS.WritableStream;
  clock?: Clock;
  /** Overrides `server.port` (0 picks a free port; tests use it). */
  port?: number;
  /** False: only the HTTP side runs (messages are accepted and wait). */
  workers?: boolean;
  /** Where the `OTEL_*` variables are read (tracing); default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Replaces the OTLP exporter when tracing is on (tests read spans from an InMemorySpanExporter). */
  spanExporter?: TracingDeps['exporter'];
}

export interface Engine {
  /** Base URL the server listens on, e.g. http://127.0.0.1:8080. */
  readonly url: string;
  readonly store: Store;
  readonly worker: Worker;
  readonly app: FastifyInstance;
  /** Deletes what is past `store.retention` every `sweepEvery`; `sweep()` runs a pass now. */
  readonly sweeper: Sweeper;
  /** This engine's traffic over the last hour, per flow and connector. */
  readonly stats: LiveStats;
  /** The alert rules' evaluator; undefined when the config has no rules. `evaluate()` runs one pass now. */
  readonly alerts: Alerts | undefined;
  /** Where the Prometheus exposition is: `${url}/metrics`, or on `metrics.port`'s server; undefined when disabled. */
  readonly metricsUrl: string | undefined;
  /**
   * Drains, then closes: new messages and `/readyz` are answered 503 while
   * in-flight work gets `worker.drainMs` to finish (the rest goes back to the
   * queue); then the server closes, then connectors and the store.
   */
  stop(): Promise<void>;
}

export async function startEngine(loaded: LoadedConfig, opts: EngineOptions = {}): Promise<Engine> {
  // A start-up that fails part-way closes what it had opened, last first, and then throws.
  const undo = new Undo();
  try {
    return await start(loaded, opts, undo);
  } catch (e) {
    await undo.run();
    throw e;
  }
}

/** Starts everything, registering with `undo` how to close each part as soon as it is open. */
async function start(loaded: LoadedConfig, opts: EngineOptions, undo: Undo): Promise<Engine> {
  const { config } = loaded;
  const clock = opts.clock ?? systemClock;
  // The config's secrets are cut out of every log line and every outcome stored, wherever a receiver echoes them.
  const scrub = secretScrub(config);
  const logger = opts.logger ?? createLogger({ level: config.log.level, format: config.log.format, scrub, ...(opts.logDestination ? { destination: opts.logDestination } : {}) });
  undo.reportTo((e) => logger.warn({ err: e }, 'start-up failed, and closing what it had opened failed too'));
  // Secrets are cut from outcomes by the worker (scrub), before they reach the store or a waiting caller.
  for (const w of loaded.warnings) logger.warn({ file: w.file, line: w.line, column: w.column, path: w.path }, `config: ${w.message}`);
  // A WSDL or schema file that cannot be used stops start-up at its line, before anything is opened.
  await checkConnectors(loaded);
  const store = openStore(config.store.url, { baseDir: loaded.baseDir, clock });
  undo.add(() => store.close());
  await store.migrate();

  // OAuth 2.0 tokens live in the store, so every worker and every process on it shares one; so does the
  // state a connector keeps (a disabled webhook endpoint), under keys of its own among the checkpoints.
  // On PostgreSQL, outbound rate limits count in the store too, so that they hold for every node together.
  const connectors = createConnectors(config.connectors, {
    tokens: store.tokens,
    state: store.checkpoints,
    rateLimiters: store.rateLimiters,
    clock,
    logger,
    baseDir: loaded.baseDir,
  });
  undo.add(() => closeConnectors(connectors));
  const flows = await compileFlows(loaded, connectors);
  const alertFlows = await compileAlertFlows(loaded, connectors);

  // On a store shared by many nodes, a flow's answer may be made on another node than the one holding the request.
  const answersCross = store.signals !== undefined && [...flows.values()].some((f) => f.respondTimeoutMs !== undefined);
  const responses = new ResponseHub({
    signals: answersCross ? store.signals : undefined,
    onError: (e) => logger.warn({ err: (e as Error).message }, 'respond: an answer could not cross to the node holding the request'),
  });
  undo.add(() => responses.close());
  const worker = new Worker({
    store,
    responses,
    scrub,
    // The alert notices' internal flows run on the worker like any flow; they have no trigger.
    flows: alertFlows.size === 0 ? flows : new Map([...flows, ...alertFlows]),
    clock,
    logger,
    options: config.worker,
  });
  // The last hour of this engine's traffic: live rates for the admin API, the dashboard and the alert rules.
  const stats = new LiveStats({ clock, worker: worker.id });
  undo.add(() => stats.close());
  // Prometheus counters follow the same events; created before anything runs, so that nothing is missed.
  const metrics = createMetrics(config, { store, connectors, worker: worker.id, clock });
  undo.add(() => metrics?.close());
  // Drops are done messages, not failures: the admin API counts them from this engine's settled events.
  const dropped = new Map<string, number>();
  const unsubscribe = subscribe('message:settled', (e) => {
    if (e.worker === worker.id && e.dropped !== undefined) dropped.set(e.flow, (dropped.get(e.flow) ?? 0) + 1);
  });
  undo.add(unsubscribe);

  let accepting = true;
  const ingest: Ingest = async (batch, opts) => {
    // Messages due now go to the local worker's free slots leased as they are stored: no claim to read them back.
    const slots = worker.reserve(batch.length);
    let results: EnqueueResult[];
    try {
      results = await store.enqueue(batch, slots === 0 ? opts : { ...opts, claim: { worker: worker.id, leaseMs: config.worker.leaseMs, limit: slots } });
    } catch (e) {
      worker.adopt([], slots);
      throw e;
    }
    const leased = results.flatMap((r, i) => claimedAtEnqueue(batch[i]!, r) ?? []);
    worker.adopt(leased, slots);
    // The rest wait in the queue: wake the claim loop for them.
    if (results.some((r) => !r.duplicate && r.lease === undefined)) worker.notify();
    if (listening('message:enqueued')) {
      for (const [i, r] of results.entries()) publish('message:enqueued', { worker: worker.id, flow: batch[i]!.flow, id: r.id, duplicate: r.duplicate });
    }
    return results;
  };
  // Each flow's trigger, by the type its config names; an HTTP one adds its route to the server built next.
  const routes: HttpRoute[] = [];
  const triggers: Trigger[] = [];
  for (const flow of flows.values()) {
    const { type, options } = config.flows[flow.name]!.trigger;
    const def = triggerTypes.get(type)!;
    triggers.push(
      await def.create(options, {
        flow: flow.name,
        clock,
        logger,
        store,
        baseDir: loaded.baseDir,
        check: ingressCheck(flow, clock, logger),
        respondTimeoutMs: flow.respondTimeoutMs,
        routes: { add: (route) => routes.push(route) },
        worker: worker.id,
        connector: (name) => {
          const c = connectors.get(name);
          if (!c) throw errors.CONFIG_INVALID.create([`flow ${flow.name}: unknown connector ${name}`]);
          return c;
        },
      }),
    );
  }
  // After everything that may refuse to start, so that no exporter is started for a config that fails.
  const tracing = await startEngineTracing(config.tracing, worker.id, { scrub, logger, env: opts.env ?? process.env, exporter: opts.spanExporter });
  undo.add(() => tracing?.close());
  const app = buildApp({
    logger,
    clock,
    store,
    ingest,
    responses,
    triggers: routes,
    maxBodyBytes: config.server.maxBodyBytes,
    accepting: () => accepting,
    // A sender that comes back after this finds the drain over: this node restarted, or another one answers.
    drainRetryAfterMs: Math.max(1000, config.worker.drainMs),
    workersRunning: () => opts.workers === false || worker.running,
    worker: worker.id,
    admin: {
      token: config.server.adminToken,
      flows: flowSummaries(config.flows, triggers),
      connectors: config.connectors,
      connectorState: (name) => connectors.get(name)?.state(),
      purgeCache: (name) => connectors.get(name)?.purgeCache?.(),
      enable: async (name) => {
        const c = connectors.get(name);
        if (c?.enable === undefined) return false;
        await c.enable();
        return true;
      },
      enableable: [...connectors.values()].filter((c) => c.enable !== undefined).map((c) => c.name),
      dropped: (flow) => dropped.get(flow) ?? 0,
      stats,
      wake: () => worker.notify(),
      worker: () => worker.view(),
    },
    // With a port of its own, /metrics is served there and not here.
    metrics: config.metrics.port === undefined ? metrics : undefined,
  });

  undo.add(() => app.close());
  // Closed before the server (registered after it): a request that came in meanwhile is answered at once, with
  // Connection: close, rather than holding the server's close on a flow's answer or a keep-alive connection.
  undo.add(() => {
    accepting = false;
    responses.close();
  });

  const port = opts.port ?? config.server.port;
  // Nothing was claimed yet when either server cannot listen: the worker starts only once both do.
  let address: string;
  try {
    address = await app.listen({ port, host: config.server.host });
  } catch (e) {
    throw errors.LISTEN_FAILED.create([`${config.server.host}:${port}`, (e as Error).message], { cause: e });
  }
  const metricsServer = await serveMetrics(config, metrics, logger);
  undo.add(() => metricsServer?.close());
  const triggersRunning = new AbortController();
  undo.add(() => triggersRunning.abort());
  for (const trigger of triggers) {
    // Stopped too if its own start fails half-way.
    undo.add(() => trigger.stop());
    await trigger.start(ingest, triggersRunning.signal);
  }
  if (opts.workers !== false) worker.start();
  // Another node's enqueue, replay or retry due now wakes this node's idle workers (PostgreSQL LISTEN/NOTIFY).
  const stopWaking = opts.workers === false ? undefined : store.signals?.onWake(() => worker.notify());
  const sweeper = startSweeper(store, config.store.retention, { clock, logger });
  const alerts = startAlertRules(loaded, { store, stats, connectors, ingest, clock, logger });
  const metricsUrl = metrics === undefined ? undefined : `${metricsServer?.url ?? address}/metrics`;
  logger.info({ url: address, flows: [...flows.keys()], ...(metricsUrl === undefined ? {} : { metrics: metricsUrl }) }, 'junction is running');

  let stopping: Promise<void> | undefined;
  return {
    url: address,
    store,
    worker,
    app,
    sweeper,
    stats,
    alerts,
    metricsUrl,
    stop() {
      stopping ??= (async () => {
        accepting = false;
        triggersRunning.abort();
        stopWaking?.();
        await Promise.all(triggers.map((t) => t.stop()));
        await alerts?.stop();
        // The port stays open while the worker drains, so that senders are told to come back
        // (503 with Retry-After) instead of finding it closed, and flows still answer their callers.
        await worker.stop();
        await sweeper.stop();
        // A caller still waiting for a flow whose message went back to the queue is told it is stored.
        responses.close();
        await app.close();
        await metricsServer?.close();
        await closeConnectors(connectors);
        await store.close();
        unsubscribe();
        stats.close();
        metrics?.close();
        // Last: the spans of the drain are in the final export.
        await tracing?.close();
        logger.info('junction stopped');
      })();
      return stopping;
    },
  };
}

/**
 * Starts tracing when the config or the `OTEL_*` variables ask for it. The
 * OpenTelemetry SDK is loaded only then: an engine that does not trace does not
 * pay for loading it either.
 */
async function startEngineTracing(
  options: LoadedConfig['config']['tracing'],
  worker: string,
  deps: { scrub: TracingDeps['scrub']; logger: Logger; env: NodeJS.ProcessEnv; exporter: TracingDeps['exporter'] },
): Promise<Tracing | undefined> {
  const settings = resolveTracing(options, deps.env);
  for (const w of settings.warnings) deps.logger.warn(`tracing: ${w}`);
  if (!settings.enabled) return undefined;
  const { startTracing } = await import('../observability/tracing.ts');
  deps.logger.info({ endpoint: deps.exporter ? undefined : redactUrl(settings.endpoint), serviceName: settings.serviceName, sampleRatio: settings.sampleRatio }, 'tracing on');
  return startTracing(settings, { worker, ...(deps.scrub ? { scrub: deps.scrub } : {}), ...(deps.exporter ? { exporter: deps.exporter } : {}) });
}

/** What the admin API shows of each flow: its trigger as the trigger describes itself, never the raw config. */
function flowSummaries(flows: LoadedConfig['config']['flows'], triggers: readonly Trigger[]): Record<string, FlowSummary> {
  const out: Record<string, FlowSummary> = {};
  for (const [name, flow] of Object.entries(flows)) {
    const trigger = triggers.find((t) => t.flow === name);
    out[name] = {
      ...(flow.description === undefined ? {} : { description: flow.description }),
      // Read on every request: a trigger's state changes (started, its last poll).
      get trigger() {
        return { type: flow.trigger.type, ...trigger?.describe() };
      },
      steps: flow.steps,
      redact: flow.redact ?? [],
    };
  }
  return out;
}
