/**
 * @module connectors/soap-request
 * The `request` of a step that calls a SOAP connector: the WSDL operation and
 * optional extra HTTP headers. The envelope is the connector's to build (it
 * holds the WSDL and the WS-Security credentials, and a fresh token is due on
 * every attempt), so the rendered request names the operation as its path and
 * the message's body rides along: JSON is mapped to the operation's input,
 * XML is put in the envelope's Body as is.
 */
import { z } from 'zod';
import { compileTemplate, template } from '../core/expression.ts';
import type { RequestKind } from './request-kind.ts';
import { renderTemplate } from './rest-request.ts';

export const soapRequestOptions = z.strictObject({
  operation: z
    .string()
    .regex(/^[A-Za-z_][\w.-]*$/, 'an operation name of the WSDL, e.g. CreateOrder')
    .describe('The WSDL operation to call, e.g. CreateOrder; checked against the WSDL at `junction check` and start-up.'),
  headers: z
    .record(z.string(), template.describe('Header value; may hold {{ expr }} parts.'))
    .optional()
    .describe('Extra HTTP headers; values may hold {{ expr }} parts. The SOAP ones (content type, SOAPAction) are set from the binding.'),
});

export type SoapRequestOptions = z.output<typeof soapRequestOptions>;

/** SOAP over HTTP is always a POST; every step that calls a connector allows it. */
export const soapRequest: RequestKind = {
  options: () => soapRequestOptions,
  compile(options, where) {
    const { operation, headers } = options as SoapRequestOptions;
    const compiled = Object.entries(headers ?? {}).map(([k, v]) => [k.toLowerCase(), compileTemplate(v)] as const);
    return {
      async render(msg) {
        const out: Record<string, string> = {};
        for (const [k, t] of compiled) out[k] = await renderTemplate(t, msg, where, `request.headers.${k}`);
        return { method: 'POST', path: operation, headers: out };
      },
    };
  },
};
