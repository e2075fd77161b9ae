/**
 * @module connectors/soap-envelope
 * Builds the SOAP envelope of one call and its HTTP headers, with the soap
 * package's own message builders (`objectToDocumentXML`, `objectToRpcXML`)
 * but without its HTTP client: the bytes go through the connector's pipeline.
 *
 * SOAP 1.1: `text/xml; charset=utf-8` and a `SOAPAction` header. SOAP 1.2:
 * `application/soap+xml; charset=utf-8; action="…"` and the 1.2 envelope
 * namespace. Which one follows the binding of the chosen port.
 */
import { findPrefix } from 'soap/lib/utils.js';
import type { ParsedWsdl, SoapOperation, SoapVersion } from './soap-wsdl.ts';

export const ENVELOPE_NS: Record<SoapVersion, string> = {
  '1.1': 'http://schemas.xmlsoap.org/soap/envelope/',
  '1.2': 'http://www.w3.org/2003/05/soap-envelope',
};

/** What goes in the envelope's Body: an object mapped to the operation's input, or XML as is. */
export type SoapBodyContent = { kind: 'object'; value: Record<string, unknown> | null } | { kind: 'xml'; value: string };

export interface SoapEnvelope {
  xml: string;
  headers: Record<string, string>;
}

/**
 * @param header the SOAP Header's content (a WS-Security token), or empty.
 */
export function buildEnvelope(wsdl: ParsedWsdl, version: SoapVersion, op: SoapOperation, content: SoapBodyContent, header: string): SoapEnvelope {
  const body = content.kind === 'xml' ? stripDeclaration(content.value) : bodyXml(wsdl, op, content.value);
  const action = soapAction(wsdl, op);
  const xml =
    '<?xml version="1.0" encoding="utf-8"?>' +
    `<soap:Envelope xmlns:soap="${ENVELOPE_NS[version]}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"${wsdl.xmlnsInEnvelope ?? ''}>` +
    (header === '' ? '' : `<soap:Header>${header}</soap:Header>`) +
    `<soap:Body>${body}</soap:Body></soap:Envelope>`;
  const headers: Record<string, string> =
    version === '1.2'
      ? { 'content-type': `application/soap+xml; charset=utf-8; action="${action}"` }
      : { 'content-type': 'text/xml; charset=utf-8', soapaction: `"${action}"` };
  return { xml, headers };
}

/** As the soap package's client does it (Client._invoke): RPC wraps the parts in the operation's element, document maps the input element. */
function bodyXml(wsdl: ParsedWsdl, op: SoapOperation, args: Record<string, unknown> | null): string {
  const defs = wsdl.definitions;
  const input = op.method.input;
  if (input === null) return '';
  if (op.style === 'rpc' && (input.parts || input.name === 'element' || args === null)) {
    const ns = defs.$targetNamespace as string;
    return wsdl.objectToRpcXML(op.name, args ?? {}, findPrefix(defs.xmlns, ns), ns, input.name !== 'element') as string;
  }
  return wsdl.objectToDocumentXML(input.$name, args ?? {}, input.targetNSAlias as string, input.targetNamespace as string, input.$type || input.$lookupType, {}) as string;
}

function soapAction(wsdl: ParsedWsdl, op: SoapOperation): string {
  if (op.soapAction !== '') return op.soapAction;
  const ns = wsdl.definitions.$targetNamespace as string;
  return (ns.endsWith('/') ? ns : `${ns}/`) + op.name;
}

function stripDeclaration(xml: string): string {
  return xml.replace(/^\s*<\?xml[^>]*\?>\s*/, '');
}
