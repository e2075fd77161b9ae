/**
 * @module connectors/soap
 * A SOAP service described by a WSDL. The soap package parses the WSDL and
 * builds the messages; the envelope goes out through the connector's own
 * pipeline and undici pool, never through the package's HTTP client.
 *
 * - The WSDL is loaded at start-up (the `check` hook refuses a bad one at the
 *   line of `wsdl`); the port's binding decides SOAP 1.1 or 1.2.
 * - A step names the operation (`request: { operation: CreateOrder }`); a
 *   JSON body is mapped to its input, an XML body is the Body's content as is.
 * - WS-Security UsernameToken goes into the SOAP Header, fresh on every call;
 *   HTTP auth (basic, bearer, …) may be set beside it.
 * - A Fault decides the outcome before the status: Server/Receiver retry,
 *   Client/Sender are permanent, and the dead letter says code and string.
 */
import { z } from 'zod';
import { httpAuthShape } from '../auth/outbound/options.ts';
import { errors } from '../core/errors.ts';
import { CONTENT_TYPES, mediaKind } from '../core/media.ts';
import type { Json } from '../core/message.ts';
import { defineConnector, type ConnectorCheckIssue, type Transport } from './connector.ts';
import { httpConnectorShape } from './options.ts';
import { snapshotResponse } from './response-error.ts';
import { buildEnvelope, type SoapBodyContent } from './soap-envelope.ts';
import { classifyFault, describeFault, findFault } from './soap-fault.ts';
import { soapRequest, soapRequestOptions } from './soap-request.ts';
import { loadWsdl, selectPort, suggest, wsdlLocation, WsdlProblem, type SoapPort } from './soap-wsdl.ts';
import { createTransport } from './transport.ts';
import { wsSecurityHeader, wsSecurityOptions } from './ws-security.ts';

const HTTP_AUTH = ['apiKey', 'bearer', 'basic', 'oauth2'] as const;

export const soapAuthOptions = z
  .strictObject({
    wsSecurity: wsSecurityOptions.optional(),
    ...httpAuthShape,
  })
  .refine((a) => HTTP_AUTH.filter((k) => a[k] !== undefined).length <= 1, { message: 'give at most one of apiKey, bearer, basic or oauth2 (wsSecurity may go with any of them)' })
  .refine((a) => a.wsSecurity !== undefined || HTTP_AUTH.some((k) => a[k] !== undefined), { message: 'give wsSecurity, or one of apiKey, bearer, basic or oauth2' })
  .describe('Credentials: wsSecurity goes into the SOAP Header; apiKey, bearer, basic or oauth2 into the HTTP request, as for any connector. Both may be set.');

export const soapConnectorOptions = z
  .strictObject({
    type: z.literal('soap').describe('Connector type.'),
    wsdl: z.string().min(1).describe('The WSDL: a file path relative to the config file, or an http(s) URL. Loaded at start-up; `junction check` refuses one that cannot be read or parsed.'),
    endpoint: z.url({ protocol: /^https?$/ }).optional().describe("Where calls go; overrides the port's soap:address in the WSDL."),
    service: z.string().min(1).optional().describe('The WSDL service to call, when it has several.'),
    port: z.string().min(1).optional().describe('The port of that service, when it has several; its binding decides SOAP 1.1 or 1.2.'),
    ...httpConnectorShape,
    auth: soapAuthOptions.optional(),
  })
  .describe('A SOAP service described by a WSDL (SOAP 1.1 or 1.2, document or RPC literal).');

export type SoapConnectorOptions = z.output<typeof soapConnectorOptions>;

/** The WSDL and port the options name, or why they cannot be used. */
async function portOf(options: SoapConnectorOptions, baseDir: string): Promise<SoapPort> {
  const wsdl = await loadWsdl(wsdlLocation(options.wsdl, baseDir), options.timeoutMs);
  return selectPort(wsdl, options);
}

export const soapConnector = defineConnector({
  name: 'soap',
  summary: 'A SOAP service described by a WSDL: the step names the operation; a SOAP Fault decides retry (Server) or dead letter (Client).',
  options: soapConnectorOptions,
  request: soapRequest,

  async check(options, { baseDir }): Promise<ConnectorCheckIssue[]> {
    try {
      await portOf(options, baseDir);
      return [];
    } catch (e) {
      if (e instanceof WsdlProblem) return [{ path: [e.key], message: e.message }];
      throw e;
    }
  },

  async checkRequest(options, request, { baseDir }): Promise<ConnectorCheckIssue[]> {
    const parsed = soapRequestOptions.safeParse(request ?? {});
    if (!parsed.success) return [];
    const port = await portOf(options, baseDir).catch(() => undefined);
    // A WSDL that cannot be used is reported once, at the connector.
    if (port === undefined || port.operations.has(parsed.data.operation)) return [];
    return [{ path: ['operation'], message: unknownOperation(parsed.data.operation, port) }];
  },

  create(name, options, deps) {
    let port: SoapPort | undefined;
    const loading = portOf(options, deps.baseDir ?? process.cwd()).then((p) => (port = p));
    // A failure is reported by each call that needs the WSDL; nothing else waits on it.
    loading.catch(() => {});
    let http: Transport | undefined;
    const header = options.auth?.wsSecurity ? wsSecurityHeader(options.auth.wsSecurity) : () => '';

    const transport: Transport = {
      async call(req, ctx) {
        let p: SoapPort;
        try {
          p = await loading;
        } catch (e) {
          throw errors.SOAP_WSDL.create([name, (e as Error).message], { cause: e });
        }
        const op = p.operations.get(req.path);
        if (op === undefined) throw errors.SOAP_REQUEST.create([name, unknownOperation(req.path, p)]);
        const endpoint = options.endpoint ?? p.location;
        if (endpoint === undefined) throw errors.SOAP_REQUEST.create([name, `port ${p.port} has no soap:address; set endpoint`]);
        http ??= createTransport(name, { ...options, baseUrl: endpoint });
        const { 'content-type': contentType, ...headers } = req.headers ?? {};
        const envelope = buildEnvelope(p.wsdl, p.version, op, bodyContent(name, req.body, contentType), header());
        return http.call({ ...req, method: 'POST', path: '', headers: { ...headers, ...envelope.headers }, body: envelope.xml }, ctx);
      },
      close: () => http?.close() ?? Promise.resolve(),
    };

    return {
      transport,
      classify(res, byStatus) {
        const fault = findFault(res.body);
        return fault === undefined ? byStatus(res.status) : classifyFault(fault);
      },
      explain(res) {
        const fault = findFault(res.body);
        return fault === undefined ? undefined : { reason: describeFault(fault) };
      },
      read(res) {
        const text = res.body.toString('utf8');
        try {
          // A successful answer came after a call, so the WSDL is loaded.
          const obj = port!.wsdl.xmlToObject(text) as { Body?: Record<string, unknown> };
          const key = Object.keys(obj.Body ?? {}).find((k) => k !== 'attributes');
          return { body: (key === undefined ? null : (obj.Body![key] as Json)) ?? null, contentType: CONTENT_TYPES.json };
        } catch (e) {
          throw errors.SOAP_ANSWER.create([name, res.status, (e as Error).message], { cause: e, status: res.status, response: snapshotResponse(res) });
        }
      },
    };
  },
});

function unknownOperation(operation: string, port: SoapPort): string {
  const names = [...port.operations.keys()];
  return `port ${port.port} of the WSDL has no operation "${operation}"${suggest(operation, names)}; it has: ${names.join(', ')}`;
}

/** The message body as the envelope's content: JSON mapped to the input, XML as is, nothing as an empty input. */
function bodyContent(connector: string, body: string | Uint8Array | undefined, contentType: string | undefined): SoapBodyContent {
  const text = body === undefined ? '' : typeof body === 'string' ? body : Buffer.from(body).toString('utf8');
  if (text.trim() === '') return { kind: 'object', value: {} };
  const kind = mediaKind(contentType);
  if (kind === 'xml') return { kind: 'xml', value: text };
  if (kind !== 'json') throw errors.SOAP_REQUEST.create([connector, `a ${contentType ?? 'body without a content type'} cannot be sent; send JSON (mapped to the operation's input) or XML (the Body's content)`]);
  const value = JSON.parse(text) as unknown;
  if (value !== null && (typeof value !== 'object' || Array.isArray(value))) {
    throw errors.SOAP_REQUEST.create([connector, `a JSON body must be an object shaped like the operation's input, not ${Array.isArray(value) ? 'an array' : typeof value}`]);
  }
  return { kind: 'object', value: value as Record<string, unknown> | null };
}
