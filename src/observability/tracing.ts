/**
 * @module observability/tracing
 * OpenTelemetry spans from the runtime's events: one per HTTP ingress (server),
 * per poll or schedule run (internal), per attempt (consumer), per step
 * (internal) and per outbound call (client),
 * and the call's `traceparent` put on its request. The runtime never calls
 * this module: it subscribes to `junction:*` channels, and the events carry the
 * objects it keys its spans by (an attempt's scope, a call's start event).
 *
 * Each engine has a tracer provider of its own, never registered globally, so
 * that engines sharing a process (tests) do not see each other's spans; events
 * of another engine's worker, or scopes it made, are ignored. Contexts are
 * passed explicitly: no context manager, no AsyncLocalStorage.
 */
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type Span, type Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  ParentBasedSampler,
  SimpleSpanProcessor,
  TraceIdRatioBasedSampler,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import type { TraceScope } from '../core/trace-context.ts';
import { VERSION } from '../core/version.ts';
import { subscribe, type JunctionEvents } from './channels.ts';
import { noScrub, redactUrl, type Scrub } from './redact.ts';
import type { TracingSettings } from './tracing-config.ts';

export interface TracingDeps {
  /** The engine's worker id: only its events are traced. */
  worker: string;
  /** Cuts the config's secrets out of attribute values (a URL may carry one). */
  scrub?: Scrub;
  /**
   * Replaces the OTLP exporter, with a span processor that exports each span as
   * it ends (tests read an InMemorySpanExporter). Tracing stays off when the
   * settings say so.
   */
  exporter?: SpanExporter;
}

/** A running tracer; {@link close} flushes what is buffered and stops listening. */
export interface Tracing {
  close(): Promise<void>;
}

const propagator = new W3CTraceContextPropagator();
const getter = {
  get: (carrier: Record<string, string | undefined>, key: string) => carrier[key],
  keys: (carrier: Record<string, string | undefined>) => Object.keys(carrier),
};
const setter = {
  set: (carrier: Record<string, string>, key: string, value: string) => {
    carrier[key] = value;
  },
};

/** How long close() waits for the last export. */
const CLOSE_WAIT_MS = 5000;

/** Starts tracing as `settings` say; undefined (and nothing subscribed, nothing spent) when it is off. */
export function startTracing(settings: TracingSettings, deps: TracingDeps): Tracing | undefined {
  if (!settings.enabled) return undefined;
  const processor = deps.exporter ? new SimpleSpanProcessor(deps.exporter) : new BatchSpanProcessor(new OTLPTraceExporter({ url: settings.endpoint }));
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': settings.serviceName, 'service.version': VERSION }),
    // A caller's sampled flag decides for its trace; the ratio decides for the traces Junction starts.
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(settings.sampleRatio) }),
    spanProcessors: [processor],
  });
  const tracer = provider.getTracer('junction', VERSION);
  const unsubscribe = subscribeSpans(tracer, deps.worker, deps.scrub ?? noScrub);
  return {
    async close() {
      for (const u of unsubscribe) u();
      // A collector that does not answer must not hold up a shutdown: its last spans are given up after a while.
      let timer: NodeJS.Timeout | undefined;
      const given = new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_WAIT_MS).unref()));
      // An export that failed is lost, not the engine's failure: stopping goes on.
      await Promise.race([provider.shutdown().catch(() => undefined), given]);
      clearTimeout(timer);
    },
  };
}

/** One attempt's spans (or a trigger run's): its own, and the step running now (the parent of its calls). */
interface AttemptSpans {
  span: Span;
  context: Context;
  step: { span: Span; context: Context } | undefined;
}

function subscribeSpans(tracer: Tracer, worker: string, scrub: Scrub): (() => void)[] {
  const ingress = new WeakMap<JunctionEvents['ingress:start'], Span>();
  const attempts = new WeakMap<TraceScope, AttemptSpans>();
  const calls = new WeakMap<JunctionEvents['call:start'], Span>();

  return [
    subscribe('ingress:start', (e) => {
      if (e.worker !== worker) return;
      const span = tracer.startSpan(
        `${e.method} ${e.route}`,
        { kind: SpanKind.SERVER, attributes: { 'http.request.method': e.method, 'http.route': e.route, 'junction.flow': e.flow } },
        parentOf(e.traceparent, undefined),
      );
      ingress.set(e, span);
      // The message is stored with this span's context: its attempts, however late, are in this trace.
      e.traceparent = carrierOf(span).traceparent;
    }),
    subscribe('ingress:end', (e) => {
      const span = ingress.get(e.start);
      if (span === undefined) return;
      ingress.delete(e.start);
      span.setAttribute('http.response.status_code', e.status);
      if (e.messageId !== undefined) span.setAttribute('messaging.message.id', e.messageId);
      // A server span fails on a 5xx only: a 4xx is the caller's mistake (HTTP semantic conventions).
      if (e.status >= 500) {
        span.setAttribute('error.type', String(e.status));
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
      span.end();
    }),
    subscribe('attempt:start', (e) => {
      if (e.worker !== worker) return;
      const span = tracer.startSpan(
        `process ${e.flow}`,
        {
          kind: SpanKind.CONSUMER,
          attributes: {
            'messaging.system': 'junction',
            'messaging.operation.type': 'process',
            'messaging.operation.name': 'process',
            'messaging.destination.name': e.flow,
            'messaging.message.id': e.id,
            'junction.flow': e.flow,
            'junction.attempt': e.attempt,
          },
        },
        parentOf(e.traceparent, e.tracestate),
      );
      attempts.set(e.scope, { span, context: trace.setSpan(ROOT_CONTEXT, span), step: undefined });
    }),
    subscribe('attempt:end', (e) => {
      const a = attempts.get(e.scope);
      if (a === undefined) return;
      attempts.delete(e.scope);
      // A step still open (the attempt was aborted while it ran) ends with it.
      a.step?.span.end();
      a.span.setAttribute('junction.outcome', e.outcome);
      if (e.paused === true) a.span.setAttribute('junction.paused', true);
      if (e.outcome === 'ack') a.span.setStatus({ code: SpanStatusCode.OK });
      // A paused retry spent no attempt (circuit open, shutdown): not a failure of the message.
      else if (e.paused !== true) {
        a.span.setAttribute('error.type', e.code ?? 'unknown');
        a.span.setStatus({ code: SpanStatusCode.ERROR, ...(e.code === undefined ? {} : { message: e.code }) });
      }
      a.span.end();
    }),
    subscribe('trigger:start', (e) => {
      if (e.worker !== worker) return;
      // A run that starts work by itself is the root of its trace, as an HTTP ingress is of its caller's.
      const span = tracer.startSpan(`${e.type} ${e.flow}`, { kind: SpanKind.INTERNAL, attributes: { 'junction.flow': e.flow, 'junction.trigger': e.type } }, ROOT_CONTEXT);
      attempts.set(e.scope, { span, context: trace.setSpan(ROOT_CONTEXT, span), step: undefined });
      e.traceparent = carrierOf(span).traceparent;
    }),
    subscribe('trigger:end', (e) => {
      const run = attempts.get(e.scope);
      if (run === undefined) return;
      attempts.delete(e.scope);
      run.span.setAttribute('messaging.batch.message_count', e.records);
      if (e.code !== undefined) {
        run.span.setAttribute('error.type', e.code);
        run.span.setStatus({ code: SpanStatusCode.ERROR, message: e.code });
      }
      run.span.end();
    }),
    subscribe('step:start', (e) => {
      const a = attempts.get(e.scope);
      if (a === undefined) return;
      const span = tracer.startSpan(`step ${e.step}`, { kind: SpanKind.INTERNAL, attributes: { 'junction.flow': e.flow, 'junction.step': e.step } }, a.context);
      a.step = { span, context: trace.setSpan(ROOT_CONTEXT, span) };
    }),
    subscribe('step:end', (e) => {
      const a = attempts.get(e.scope);
      if (a?.step === undefined) return;
      if (e.code !== undefined) {
        a.step.span.setAttribute('error.type', e.code);
        a.step.span.setStatus({ code: SpanStatusCode.ERROR, message: e.code });
      }
      a.step.span.end();
      a.step = undefined;
    }),
    subscribe('call:start', (e) => {
      // A call outside an attempt or a trigger run (a library connector) has no scope of this engine: no span.
      const a = e.scope === undefined ? undefined : attempts.get(e.scope);
      if (a === undefined) return;
      const url = e.url === undefined ? undefined : scrub(redactUrl(e.url));
      const server = e.url === undefined ? undefined : new URL(e.url);
      const span = tracer.startSpan(
        e.method,
        {
          kind: SpanKind.CLIENT,
          attributes: {
            'http.request.method': e.method,
            'junction.connector': e.connector,
            ...(url === undefined ? {} : { 'url.full': url }),
            ...(server === undefined ? {} : { 'server.address': server.hostname, 'server.port': Number(server.port || (server.protocol === 'https:' ? 443 : 80)) }),
          },
        },
        (a.step ?? a).context,
      );
      calls.set(e, span);
      // The receiver sees this call's span as its parent: the caller's trace id, end to end.
      if (e.headers !== undefined) {
        delete e.headers.traceparent;
        delete e.headers.tracestate;
        Object.assign(e.headers, carrierOf(span));
      }
    }),
    subscribe('call:end', (e) => {
      const span = e.start === undefined ? undefined : calls.get(e.start);
      if (span === undefined) return;
      calls.delete(e.start!);
      if (e.status !== undefined) span.setAttribute('http.response.status_code', e.status);
      const error = e.code ?? (e.classification !== undefined && e.classification !== 'ok' ? String(e.status) : undefined);
      if (error !== undefined) {
        span.setAttribute('error.type', error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: error });
      }
      span.end();
    }),
  ];
}

/** The context a stored or inbound `traceparent` continues; the root (a new trace) without a valid one. */
function parentOf(traceparent: string | undefined, tracestate: string | undefined): Context {
  if (traceparent === undefined) return ROOT_CONTEXT;
  return propagator.extract(ROOT_CONTEXT, { traceparent, ...(tracestate === undefined ? {} : { tracestate }) }, getter);
}

/** The `traceparent` (and `tracestate`, if any) of a span, as headers. */
function carrierOf(span: Span): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagator.inject(trace.setSpan(ROOT_CONTEXT, span), carrier, setter);
  return carrier;
}
