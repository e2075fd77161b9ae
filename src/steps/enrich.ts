/**
 * @module steps/enrich
 * Asks a connector for more data and puts the answer into the body under
 * `into`. Answers can be cached per step (`cacheTtlMs`): keyed by the rendered
 * request, bounded (least recently used evicted) and with one call in flight per
 * key, so a burst of messages about the same account makes one request. Only
 * successes are cached. A cached answer is copied for each message, so a later
 * step that changes the body cannot change the cache.
 */
import { z } from 'zod';
import { errors, isJunctionError } from '../core/errors.ts';
import { requireJsonBody } from '../core/media.ts';
import type { Json, Message } from '../core/message.ts';
import { isRecord } from '../core/record.ts';
import { createCache } from '../policies/memo.ts';
import type { RenderedRequest, RequestUse } from '../connectors/request-kind.ts';
import { bodyOf, compileStepRequest, connectorStepOptions, requestOption, sendRequest } from './request.ts';
import { defineStep } from './step.ts';

/** A lookup: GET by default, or a POST that sends the body (a search). */
const LOOKUP_USE: RequestUse = { methods: ['GET', 'POST'], defaultMethod: 'GET' };

const FIELD_PATH = /^[A-Za-z_$][\w$-]*(\.[A-Za-z_$][\w$-]*)*$/;

export const enrichOptions = connectorStepOptions({
  connector: z.string().min(1).describe('Name of a connector under `connectors`.'),
  request: requestOption(LOOKUP_USE, 'The lookup sent to the connector. A POST sends the body (e.g. a search); a GET sends none. Its keys are the connector type\'s (rest: method, path, headers, query).'),
  into: z
    .string()
    .regex(FIELD_PATH, 'a field name, or a dotted path such as customer.account')
    .describe('Field of the body that receives the answer; a dotted path (a.b) creates the objects on the way.'),
  cacheTtlMs: z.int().min(0).default(0).describe('Reuse an answer for the same rendered request this long; 0 turns the cache off.'),
  cacheMaxEntries: z.int().min(1).default(1000).describe('Most answers the cache keeps; the least recently used is evicted first.'),
  onNotFound: z
    .enum(['fail', 'skip'])
    .default('fail')
    .describe('On a 404: fail (as the connector classifies it; a dead letter by default) or skip (the body goes on unchanged).'),
})
  .describe('Look data up in a connector and add the answer to the body: JSON parsed when the answer is JSON, else text.');

export const enrichStep = defineStep({
  name: 'enrich',
  summary: 'Add a connector\'s answer to the body, with an optional cache.',
  options: enrichOptions,
  create(options, deps) {
    const connector = deps.connector(options.connector);
    const where = `${deps.flow}[${deps.index}].enrich`;
    const request = compileStepRequest(connector, options, Object.keys(enrichOptions.shape), LOOKUP_USE, where, deps.baseDir);
    const into = options.into.split('.');
    const cache = options.cacheTtlMs > 0 ? createCache<Json>({ ttlMs: options.cacheTtlMs, maxEntries: options.cacheMaxEntries }) : undefined;

    return async function enrich(msg, ctx) {
      const body = msg.body;
      // Checked before the call: no request is spent on a message that cannot take the answer.
      requireJsonBody(msg, where);
      const unfit = unfitReason(body, into);
      if (unfit) throw errors.STEP_INVALID.create([where, unfit]);
      const req = await request.render(msg);
      const sent = bodyOf(req, msg);
      // With the cache, concurrent messages share the first one's call (its trace
      // context and abort signal; every message of a worker shares that signal).
      const fetch = async (): Promise<Json> => {
        const res = await sendRequest(connector, { method: req.method, path: req.path, headers: { ...sent.headers, ...req.headers }, body: sent.body }, msg, ctx);
        return connector.read(res).body;
      };
      let answer: Json;
      try {
        answer = cache ? structuredClone(await cache.get(cacheKey(req, sent.body), ctx.clock, fetch)) : await fetch();
      } catch (e) {
        // Whatever the connector makes of a 404, "skip" means: there is nothing to add.
        if (options.onNotFound === 'skip' && isJunctionError(e) && e.status === 404) return msg;
        throw e;
      }
      return { ...msg, body: withField(body as Record<string, Json>, into, answer) } satisfies Message;
    };
  },
});

/** Method, path with query, configured headers and any payload: what makes two lookups the same. */
function cacheKey(req: RenderedRequest, payload: string | Uint8Array | undefined): string {
  const headers = Object.entries(req.headers).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify([req.method, req.path, headers, payload === undefined ? null : String(payload)]);
}

/** Why the answer cannot go into the body at `path`, or undefined when it can. */
function unfitReason(body: Json, path: readonly string[]): string | undefined {
  if (!isRecord(body)) return `the body must be a JSON object to add "${path.join('.')}" to; it is ${describe(body)}`;
  let cur: Json | undefined = body;
  for (let i = 0; i < path.length - 1; i++) {
    cur = (cur as Record<string, Json>)[path[i]!];
    if (cur === undefined) return undefined;
    if (!isRecord(cur)) return `"${path.slice(0, i + 1).join('.')}" is ${describe(cur)}, not an object, so "${path.join('.')}" cannot be set`;
  }
  return undefined;
}

/** A copy of `body` with `value` at `path`; objects along the path are copied, not changed. */
function withField(body: Record<string, Json>, path: readonly string[], value: Json): Record<string, Json> {
  const [head, ...rest] = path;
  if (rest.length === 0) return { ...body, [head!]: value };
  const child = body[head!];
  return { ...body, [head!]: withField(isRecord(child) ? child : {}, rest, value) };
}

function describe(v: Json): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return `a ${typeof v}`;
}
