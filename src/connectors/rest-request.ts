/**
 * @module connectors/rest-request
 * The `request` of a step that calls a REST connector: method, path, headers
 * and query, each value a `{{ expr }}` template rendered from the message.
 *
 * Template values in the path are percent-encoded, so a value such as `a/b` or
 * `x?y` stays one path segment instead of changing the URL. A `{{ expr }}` part
 * that gives nothing, null, an empty string, an object or an array fails the
 * message (a dead letter): `/accounts/{{ id }}` never becomes `/accounts/`.
 */
import { z } from 'zod';
import { errors } from '../core/errors.ts';
import { compileTemplate, template, type Template } from '../core/expression.ts';
import type { Message } from '../core/message.ts';
import type { CompiledRequest, Method, RequestKind } from './request-kind.ts';

/** The `request` options of a step; `defaultMethod` differs: deliver posts, enrich gets. */
export function requestOptions(methods: readonly [Method, ...Method[]], defaultMethod: Method) {
  return z.strictObject({
    method: z.enum(methods).default(defaultMethod).describe('HTTP method.'),
    path: template
      .default('')
      .describe('Appended to the connector base URL; may hold {{ expr }} parts, whose values are percent-encoded. A part that gives nothing, null, an empty string, an object or an array fails the message (JNC_TEMPLATE_VALUE); write a default where a value may be missing.'),
    headers: z
      .record(z.string(), template.describe('Header value; may hold {{ expr }} parts.'))
      .optional()
      .describe('Extra headers; values may hold {{ expr }} parts.'),
    query: z
      .record(z.string(), template.describe('Parameter value; may hold {{ expr }} parts.'))
      .optional()
      .describe('Query string parameters, encoded and appended to the path; values may hold {{ expr }} parts.'),
  });
}

export interface RequestOptions {
  method: Method;
  path: string;
  headers?: Record<string, string> | undefined;
  query?: Record<string, string> | undefined;
}

/** @param where names the step in errors, e.g. `orders[2].deliver`. */
export function compileRequest(options: RequestOptions, where: string): CompiledRequest {
  // Each value stays one path segment: `a/b` or `?x=` in the data cannot change the URL.
  const path = compileTemplate(options.path, { encode: encodeURIComponent });
  const headers = Object.entries(options.headers ?? {}).map(([k, v]) => [k.toLowerCase(), compileTemplate(v)] as const);
  const query = Object.entries(options.query ?? {}).map(([k, v]) => [k, compileTemplate(v)] as const);
  return {
    async render(msg) {
      let rendered = await renderTemplate(path, msg, where, 'request.path');
      if (query.length > 0) {
        const params = new URLSearchParams();
        for (const [k, t] of query) params.append(k, await renderTemplate(t, msg, where, `request.query.${k}`));
        rendered += (rendered.includes('?') ? '&' : '?') + params.toString();
      }
      const out: Record<string, string> = {};
      for (const [k, t] of headers) out[k] = await renderTemplate(t, msg, where, `request.headers.${k}`);
      return { method: options.method, path: rendered, headers: out };
    },
  };
}

/**
 * Renders one template of a step for a message. Whatever fails (an expression
 * that throws, a part that gives nothing) fails the same way on every retry, so
 * it is JNC_STEP_INVALID, permanent, naming the step and the option.
 * @param option the option holding the template, e.g. `request.headers.x-order`
 */
export async function renderTemplate(t: Template, msg: Message, where: string, option: string): Promise<string> {
  try {
    return await t.render(msg.body, msg);
  } catch (e) {
    throw errors.STEP_INVALID.create([where, `${option}: ${(e as Error).message}`], { cause: e });
  }
}

/** The REST connector's request: method, path, headers and query, from templates. */
export const restRequest: RequestKind = {
  options: ({ methods, defaultMethod }) => requestOptions(methods, defaultMethod).prefault({}),
  compile: (options, where) => compileRequest(options as RequestOptions, where),
  relay: false,
};
