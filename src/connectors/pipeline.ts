/**
 * @module connectors/pipeline
 * The order of the policies around a call, written once. Every connector type
 * builds its call here, so that a policy sits at the same place for all of them.
 *
 * From the outside in:
 *
 * 1. `timeout`: the whole-call deadline, so it also bounds the time spent in
 *    every policy inside it (waiting for a rate-limit token, refreshing a token).
 * 2. `auth`: injects the credentials. Renewing them after a 401 is not a policy:
 *    the step that classified the answer asks `Connector.refreshCredentials` and
 *    sends once more (steps/request.ts), each send with its own deadline.
 * 3. the terminal call: the transport (undici pool).
 *
 * Later policies take their slot in {@link POLICY_ORDER} between `timeout` and
 * `auth` (circuit breaker, rate limit, cache, tracing); nothing else changes.
 */
import type { Call, Policy } from './connector.ts';

/** The policy slots, outermost first. Add a slot here to add a policy everywhere. */
export const POLICY_ORDER = ['timeout', 'auth'] as const;
export type PolicySlot = (typeof POLICY_ORDER)[number];

/** The policies of one connector by slot; an absent slot is skipped. */
export type PolicySet = Partial<Record<PolicySlot, Policy>>;

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
  let call = terminal;
  for (let i = policies.length - 1; i >= 0; i--) {
    const policy = policies[i];
    const name = names[i] ?? (policy?.name || `#${i}`);
    if (typeof policy !== 'function') throw new TypeError(`compose: policy ${name} must be a function (next) => call`);
    const wrapped = policy(guardNext(call, name));
    if (typeof wrapped !== 'function') throw new TypeError(`compose: policy ${name} returned ${typeof wrapped}, not a call`);
    call = wrapped;
  }
  // A caller may reuse one context for many calls; each call gets its own copy so
  // that the guard below counts per call, not per context object.
  const outer = call;
  return (req, ctx) => outer(req, { ...ctx });
}

/** `next` for the policy `name`: rejects when called again with the same context. */
function guardNext(next: Call, name: string): Call {
  const seen = new WeakSet<object>();
  return (req, ctx) => {
    if (seen.has(ctx)) {
      return Promise.reject(new Error(`policy ${name} called next() twice for one call; pass a fresh context to send again`));
    }
    seen.add(ctx);
    return next(req, ctx);
  };
}
