/**
 * @module connectors/pipeline
 * The order of the policies around a call, written once (DESIGN.md, "The
 * connector pipeline"). Every connector type is assembled here, so a policy sits
 * at the same place for all of them; a type only brings its transport and its
 * reading of an answer.
 *
 * From the outside in:
 *
 * 1. `trace`: one span and one timing per call, cache hits included.
 * 2. `cache`: a fresh GET answer is served without touching the target.
 * 3. `circuit`: an open circuit fails fast; nothing below runs.
 * 4. `rateLimit`: no token, no call: paused until the next one.
 * 5. `concurrency`: waiting for a slot is not part of the deadline.
 * 6. `timeout`: the deadline covers the exchange, a token fetch and one resend
 *    after a 401 included.
 * 7. `auth`: injects the credentials; an answer classified `refresh` (401)
 *    renews them once and sends again, inside the deadline.
 * 8. the terminal call: the type's transport (undici pool).
 *
 * A slot with no policy configured is skipped and costs nothing.
 */
import { outboundAuth } from '../auth/outbound/index.ts';
import type { Call, Classification, OutboundResponse, Policy } from '../core/call.ts';
import { cachePolicy } from '../policies/cache.ts';
import { systemClock } from '../core/clock.ts';
import { circuitBreakerLayer, type CircuitChange } from '../policies/circuit-breaker.ts';
import { createClassifier, type ClassificationTable } from '../policies/classify.ts';
import { concurrencyPolicy } from '../policies/concurrency.ts';
import { rateLimitPolicy } from '../policies/rate-limit.ts';
import { timeoutPolicy } from '../policies/timeout.ts';
import { tracePolicy } from '../policies/trace.ts';
import type { Connector, ConnectorDefinition, ConnectorDeps, ConnectorTypeOptions } from './connector.ts';
import { readJsonOrText } from './answer.ts';
import { snapshotResponse } from './response-error.ts';
import { joinPath } from './transport.ts';

/** The policy slots, outermost first. Add a slot here to add a policy everywhere. */
export const POLICY_ORDER = ['trace', 'cache', 'circuit', 'rateLimit', 'concurrency', 'timeout', 'auth'] as const;
export type PolicySlot = (typeof POLICY_ORDER)[number];

/** The policies of one connector by slot; an absent slot is skipped. */
export type PolicySet = Partial<Record<PolicySlot, Policy>>;

/** A policy as a connector holds it: the wrapper, and what it reports and releases. */
export interface PolicyLayer {
  policy: Policy;
  /** Live state for the admin API (a circuit's state, a bucket's tokens). */
  state?(): unknown;
  /** Stops work the policy started (a token request, a timer). */
  close?(): void;
}

/**
 * Builds a connector of type `def` from parsed options: the type's transport
 * and classification inside the one chain of policies.
 */
export function assembleConnector<O extends ConnectorTypeOptions>(def: ConnectorDefinition, name: string, options: O, deps: ConnectorDeps = {}): Connector {
  const parts = def.create(name, options, deps);
  const byStatus = createClassifier(statusTable(options.classify));
  const classify = (res: OutboundResponse): Classification => (parts.classify ? parts.classify(res, byStatus) : byStatus(res.status));
  const clock = deps.clock ?? systemClock;
  const layers: Partial<Record<PolicySlot, PolicyLayer>> = {
    trace: { policy: tracePolicy(name, classify, urlOf(options)) },
    timeout: { policy: timeoutPolicy(name, options.timeoutMs) },
  };
  if (options.circuitBreaker) {
    const logger = deps.logger;
    const onChange = (c: CircuitChange): void => {
      logger?.[c.to === 'open' ? 'warn' : 'info']({ connector: c.connector, from: c.from, to: c.to, failures: c.failures, requests: c.requests }, `connector ${c.connector}: circuit ${c.to}: ${c.reason}`);
    };
    layers.circuit = circuitBreakerLayer(name, options.circuitBreaker, { clock, classify, probeTimeoutMs: options.timeoutMs, onChange });
  }
  const auth = outboundAuth(options.auth, { connector: name, timeoutMs: options.timeoutMs, tokens: deps.tokens, clock: deps.clock, classify });
  if (auth) layers.auth = auth;
  const cache = options.cache ? cachePolicy(options.cache, clock) : undefined;
  if (cache) layers.cache = cache;
  if (options.rateLimit) {
    layers.rateLimit = rateLimitPolicy(name, options.rateLimit, { classify, snapshot: snapshotResponse, clock, maxPauseMs: options.retry.maxMs, limiters: deps.rateLimiters });
  }
  if (options.concurrency !== undefined) layers.concurrency = concurrencyPolicy(name, options.concurrency, clock);
  const set: PolicySet = {};
  for (const [slot, layer] of Object.entries(layers) as [PolicySlot, PolicyLayer][]) set[slot] = layer.policy;
  const call = buildPipeline(set, parts.transport.call);
  return {
    name,
    type: def.name,
    options,
    retry: options.retry,
    call,
    classify,
    read: parts.read ? (res) => parts.read!(res) : (res) => readJsonOrText(name, res),
    explain: (res) => parts.explain?.(res),
    ...(cache ? { purgeCache: () => cache.purge() } : {}),
    ...(parts.enable ? { enable: () => parts.enable!() } : {}),
    state() {
      const policies: Record<string, unknown> = {};
      for (const slot of POLICY_ORDER) {
        const state = layers[slot]?.state?.();
        if (state !== undefined) policies[slot] = state;
      }
      const endpoint = parts.state?.();
      return { type: def.name, policies, ...(endpoint === undefined ? {} : { endpoint }) };
    },
    close() {
      for (const layer of Object.values(layers)) layer.close?.();
      return parts.transport.close();
    },
  };
}

/**
 * How a request path becomes the URL it goes to, for the call's events (a
 * span's `url.full`): the type's base option (`baseUrl`, `endpoint`, a
 * webhook's `url` less its query) joined with the path as the transport does.
 * Undefined when the options name no URL (a SOAP endpoint read from the WSDL).
 */
function urlOf(options: Readonly<Record<string, unknown>>): ((path: string) => string) | undefined {
  const raw = [options.baseUrl, options.endpoint, options.url].find((v): v is string => typeof v === 'string');
  if (raw === undefined) return undefined;
  const base = new URL(raw);
  return (path) => base.origin + joinPath(base.pathname, path);
}

/** `classify` overrides as the classifier's table: `"409"` becomes the status 409, `"4xx"` stays a class. */
function statusTable(overrides: Readonly<Record<string, Classification>> | undefined): ClassificationTable {
  const table: Record<string | number, Classification> = {};
  for (const [key, cls] of Object.entries(overrides ?? {})) table[/^\d+$/.test(key) ? Number(key) : key] = cls;
  return table as ClassificationTable;
}

/** Composes the policies present in `set` in {@link POLICY_ORDER} around `terminal`. */
export function buildPipeline(set: PolicySet, terminal: Call): Call {
  const policies: Policy[] = [];
  const names: string[] = [];
  for (const slot of POLICY_ORDER) {
    const policy = set[slot];
    if (policy === undefined) continue;
    policies.push(policy);
    names.push(slot);
  }
  return compose(policies, terminal, names);
}

/**
 * Wraps `terminal` in `policies`, the first one outermost (undici `compose`,
 * cockatiel `wrap`). Checks its inputs, and guards every `next` so that a policy
 * calling it twice for one call rejects with a clear error instead of sending the
 * request twice.
 *
 * "One call" is one context object: a policy that means to send again (say, after
 * refreshing a token) passes a fresh context, e.g. `next(req, { ...ctx })`.
 * @param names used in error messages; defaults to the policies' function names
 */
export function compose(policies: readonly Policy[], terminal: Call, names: readonly string[] = []): Call {
  if (typeof terminal !== 'function') throw new TypeError('compose: the terminal call must be a function');
  if (policies.length > MAX_POLICIES) throw new TypeError(`compose: at most ${MAX_POLICIES} policies, not ${policies.length}`);
  const passed = passedMarks();
  let call = terminal;
  for (let i = policies.length - 1; i >= 0; i--) {
    const policy = policies[i];
    const name = names[i] ?? (policy?.name || `#${i}`);
    if (typeof policy !== 'function') throw new TypeError(`compose: policy ${name} must be a function (next) => call`);
    const wrapped = policy(guardNext(call, name, passed, 1 << i));
    if (typeof wrapped !== 'function') throw new TypeError(`compose: policy ${name} returned ${typeof wrapped}, not a call`);
    call = wrapped;
  }
  // A caller may reuse one context for many calls; each call gets its own copy so
  // that the guard below counts per call, not per context object.
  const outer = call;
  return (req, ctx) => outer(req, { ...ctx });
}

/** One bit per policy of a pipeline in its marks. */
const MAX_POLICIES = 30;

/** Which policies of one pipeline have passed a context on: a bit per policy. */
interface PassedMarks {
  get(ctx: object): number;
  set(ctx: object, bits: number): void;
}

/**
 * The marks of one pipeline, kept on each context as a non-enumerable symbol property:
 * a spread (`{ ...ctx }`, a fresh context to send again) does not copy it, so the fresh
 * context starts unmarked. A frozen context cannot carry it and is kept in a WeakMap.
 * (A WeakSet per policy did the same at about 0.7–1.6 µs per policy and call, mostly
 * the garbage collector's work on its entries: most of what bench/policies measured.)
 */
function passedMarks(): PassedMarks {
  const mark = Symbol('policies passed');
  const frozen = new WeakMap<object, number>();
  return {
    get: (ctx) => ((ctx as Record<symbol, number | undefined>)[mark] ?? frozen.get(ctx) ?? 0),
    set(ctx, bits) {
      if (Object.hasOwn(ctx, mark)) (ctx as Record<symbol, number>)[mark] = bits;
      else if (Object.isExtensible(ctx)) Object.defineProperty(ctx, mark, { value: bits, writable: true });
      else frozen.set(ctx, bits);
    },
  };
}

/** `next` for the policy `name` (its `bit` in `passed`): rejects when called again with the same context. */
function guardNext(next: Call, name: string, passed: PassedMarks, bit: number): Call {
  return (req, ctx) => {
    const bits = passed.get(ctx);
    if ((bits & bit) !== 0) {
      return Promise.reject(new Error(`policy ${name} called next() twice for one call; pass a fresh context to send again`));
    }
    passed.set(ctx, bits | bit);
    return next(req, ctx);
  };
}
