/**
 * @module observability/tracing-config
 * The `tracing` config section, and how it and the standard `OTEL_*`
 * environment variables decide what the tracer does. The config wins over
 * the environment, key by key; with neither, tracing is off.
 */
import { z } from 'zod';

export const tracingOptions = z
  .strictObject({
    exporter: z
      .enum(['otlp', 'none'])
      .optional()
      .describe(
        'otlp: send spans over OTLP/HTTP; none: tracing off. Default: OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none turn it off, OTEL_TRACES_EXPORTER=otlp or an endpoint (here or in OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT) turn it on; else off.',
      ),
    endpoint: z
      .url({ protocol: /^https?$/ })
      .optional()
      .describe('The OTLP/HTTP traces URL, used as given, e.g. http://127.0.0.1:4318/v1/traces. Default: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, else OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces, else http://localhost:4318/v1/traces.'),
    serviceName: z.string().min(1).optional().describe('The service.name of the spans. Default: OTEL_SERVICE_NAME, else service.name in OTEL_RESOURCE_ATTRIBUTES, else junction.'),
    sampleRatio: z
      .number()
      .min(0)
      .max(1)
      .optional()
      .describe(
        "Share of new traces recorded (0 to 1); a trace the caller started follows the caller's sampled flag. Default: OTEL_TRACES_SAMPLER (always_on, always_off, traceidratio and their parentbased_ forms) with OTEL_TRACES_SAMPLER_ARG, else 1.",
      ),
  })
  .prefault({})
  .describe('OpenTelemetry tracing: a span per HTTP ingress, attempt, step and outbound call; W3C traceparent in and out. Off by default.');

export type TracingOptions = z.output<typeof tracingOptions>;

/** What the tracer is to do, after the config and the environment had their say. */
export interface TracingSettings {
  enabled: boolean;
  /** Where spans are POSTed (OTLP/HTTP). */
  endpoint: string;
  serviceName: string;
  sampleRatio: number;
  /** Environment values that were not understood and were ignored: the engine logs them. */
  warnings: string[];
}

const DEFAULT_ENDPOINT = 'http://localhost:4318/v1/traces';

/**
 * Resolves the settings key by key: the config's value, else the `OTEL_*`
 * variable's (as the OpenTelemetry SDK specification reads them), else the
 * default. Tracing is on only when something asks for it.
 */
export function resolveTracing(options: TracingOptions, env: NodeJS.ProcessEnv): TracingSettings {
  const warnings: string[] = [];
  const envEndpoint = nonEmpty(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) ?? withTracesPath(nonEmpty(env.OTEL_EXPORTER_OTLP_ENDPOINT));
  const endpoint = options.endpoint ?? envEndpoint;
  return {
    enabled: (options.exporter ?? envExporter(env, endpoint !== undefined, warnings)) === 'otlp',
    endpoint: endpoint ?? DEFAULT_ENDPOINT,
    serviceName: options.serviceName ?? nonEmpty(env.OTEL_SERVICE_NAME) ?? resourceServiceName(env.OTEL_RESOURCE_ATTRIBUTES) ?? 'junction',
    sampleRatio: options.sampleRatio ?? envSampleRatio(env, warnings) ?? 1,
    warnings,
  };
}

function envExporter(env: NodeJS.ProcessEnv, hasEndpoint: boolean, warnings: string[]): 'otlp' | 'none' {
  if (nonEmpty(env.OTEL_SDK_DISABLED)?.toLowerCase() === 'true') return 'none';
  const named = nonEmpty(env.OTEL_TRACES_EXPORTER);
  if (named !== undefined) {
    // A list is allowed; the first exporter Junction has decides.
    const names = named.split(',').map((s) => s.trim().toLowerCase());
    if (names.includes('none')) return 'none';
    if (names.includes('otlp')) return 'otlp';
    warnings.push(`OTEL_TRACES_EXPORTER=${named}: only otlp and none are supported; tracing stays off`);
    return 'none';
  }
  return hasEndpoint ? 'otlp' : 'none';
}

function envSampleRatio(env: NodeJS.ProcessEnv, warnings: string[]): number | undefined {
  const sampler = nonEmpty(env.OTEL_TRACES_SAMPLER)?.toLowerCase();
  if (sampler === undefined) return undefined;
  const base = sampler.replace(/^parentbased_/, '');
  if (base === 'always_on') return 1;
  if (base === 'always_off') return 0;
  if (base === 'traceidratio') {
    const arg = nonEmpty(env.OTEL_TRACES_SAMPLER_ARG);
    if (arg === undefined) return 1;
    const ratio = Number(arg);
    if (Number.isFinite(ratio) && ratio >= 0 && ratio <= 1) return ratio;
    warnings.push(`OTEL_TRACES_SAMPLER_ARG=${arg}: not a ratio between 0 and 1; sampling everything`);
    return 1;
  }
  warnings.push(`OTEL_TRACES_SAMPLER=${sampler}: not supported (always_on, always_off, traceidratio, parentbased_*); sampling everything`);
  return undefined;
}

/** OTEL_EXPORTER_OTLP_ENDPOINT is the collector's base: the traces path is appended to it (OTLP exporter spec). */
function withTracesPath(base: string | undefined): string | undefined {
  return base === undefined ? undefined : `${base.replace(/\/+$/, '')}/v1/traces`;
}

/** `service.name` in `key1=value1,key2=value2` (values percent-encoded). */
function resourceServiceName(attributes: string | undefined): string | undefined {
  for (const pair of attributes?.split(',') ?? []) {
    const eq = pair.indexOf('=');
    if (eq > 0 && pair.slice(0, eq).trim() === 'service.name') {
      try {
        return nonEmpty(decodeURIComponent(pair.slice(eq + 1).trim()));
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

function nonEmpty(value: string | undefined): string | undefined {
  const v = value?.trim();
  return v === undefined || v === '' ? undefined : v;
}
