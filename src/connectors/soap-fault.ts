/**
 * @module connectors/soap-fault
 * Finds a SOAP Fault in an answer, 1.1 (`faultcode`, `faultstring`) or 1.2
 * (`Code/Value`, `Reason/Text`), and says what it means: a `Server` or
 * `Receiver` fault is the service's own trouble and is retried; a `Client`
 * or `Sender` fault (and any other: `VersionMismatch`, `MustUnderstand`) would
 * come again for the same message, so it is permanent.
 */
import { XMLParser } from 'fast-xml-parser';
import type { Classification } from '../core/call.ts';

export interface SoapFault {
  /** The code as sent, e.g. `soap:Server` or `env:Sender`. */
  code: string;
  /** The fault string (1.1) or reason text (1.2). */
  reason: string;
  /** The 1.2 subcode, or the 1.1 detail's first text, when there is one. */
  subcode?: string | undefined;
}

const parser = new XMLParser({ removeNSPrefix: true, ignoreAttributes: true, parseTagValue: false, textNodeName: '#text' });

/** The Fault in a SOAP envelope; undefined when the body is no envelope or carries none. */
export function findFault(body: Buffer | string): SoapFault | undefined {
  const text = typeof body === 'string' ? body : body.toString('utf8');
  if (!text.includes('Fault')) return undefined;
  let doc: Record<string, unknown>;
  try {
    doc = parser.parse(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const fault = (doc.Envelope as { Body?: { Fault?: Record<string, unknown> } } | undefined)?.Body?.Fault;
  if (fault === undefined || fault === null || typeof fault !== 'object') return undefined;
  if ('faultcode' in fault || 'faultstring' in fault) return { code: textOf(fault.faultcode), reason: textOf(fault.faultstring) };
  const code = fault.Code as { Value?: unknown; Subcode?: { Value?: unknown } } | undefined;
  const reason = (fault.Reason as { Text?: unknown } | undefined)?.Text;
  const subcode = code?.Subcode?.Value === undefined ? undefined : textOf(code.Subcode.Value);
  return { code: textOf(code?.Value), reason: textOf(Array.isArray(reason) ? reason[0] : reason), subcode };
}

/** Server/Receiver: retry; anything else: permanent. */
export function classifyFault(fault: SoapFault): Exclude<Classification, 'ok' | 'refresh'> {
  const local = fault.code.slice(fault.code.indexOf(':') + 1).split('.')[0];
  return local === 'Server' || local === 'Receiver' ? 'retry' : 'permanent';
}

/** `SOAP Fault soap:Client: Unknown item (AuthenticationFailure)`: what the dead letter says. */
export function describeFault(fault: SoapFault): string {
  return `SOAP Fault ${fault.code || '(no code)'}: ${fault.reason || '(no reason)'}${fault.subcode ? ` (${fault.subcode})` : ''}`;
}

function textOf(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'object') return textOf((v as Record<string, unknown>)['#text']);
  return String(v).trim();
}
