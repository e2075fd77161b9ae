/**
 * @module connectors/soap-wsdl
 * Loads a WSDL (a file, or an http(s) URL) with the soap package's parser and
 * picks what a SOAP connector calls: one service, one port, its binding's SOAP
 * version and its operations. Loading is cached per location, so that the
 * check at start-up and the connector created right after parse it once.
 *
 * The soap package does not keep a binding's SOAP version (it keeps only the
 * transport URI, the same for 1.1 and 1.2), so the version is read from the
 * WSDL text: the namespace of the `binding` element inside `wsdl:binding`.
 */
import { readFile, stat } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import soap from 'soap';
import { request } from 'undici';
import { closest } from '../core/suggest.ts';

const SOAP12_BINDING_NS = 'http://schemas.xmlsoap.org/wsdl/soap12/';

export type SoapVersion = '1.1' | '1.2';

/** The soap package's parsed WSDL, as far as we use it. */
export type ParsedWsdl = InstanceType<typeof soap.WSDL>;

/** One operation of the chosen port, as its binding describes it. */
export interface SoapOperation {
  readonly name: string;
  readonly style: 'rpc' | 'document';
  readonly soapAction: string;
  /** The soap package's method element (input, output, parts), for building and reading messages. */
  readonly method: SoapMethod;
}

/** The soap package's method element; its fields are untyped in the package. */
export interface SoapMethod {
  $name: string;
  style?: string;
  soapAction?: string | null;
  input: { $name: string; name?: string; parts?: unknown; targetNSAlias?: string; targetNamespace?: string; $type?: string; $lookupType?: string } | null;
  output: { $name: string } | null;
}

export interface SoapPort {
  readonly wsdl: ParsedWsdl;
  readonly service: string;
  readonly port: string;
  readonly version: SoapVersion;
  /** The port's `soap:address`, used when the connector sets no `endpoint`. */
  readonly location: string | undefined;
  readonly operations: ReadonlyMap<string, SoapOperation>;
}

/** Why a WSDL cannot be used; `key` names the connector option at fault. */
export class WsdlProblem extends Error {
  readonly key: 'wsdl' | 'service' | 'port';
  constructor(key: 'wsdl' | 'service' | 'port', message: string) {
    super(message);
    this.key = key;
  }
}

/** A `wsdl` option as a location: a URL as is, a path resolved against the config file's folder. */
export function wsdlLocation(wsdl: string, baseDir: string): string {
  if (/^https?:\/\//i.test(wsdl)) return wsdl;
  return isAbsolute(wsdl) ? wsdl : resolve(baseDir, wsdl);
}

const cache = new Map<string, Promise<ParsedWsdl>>();

/**
 * The parsed WSDL at `location` (see {@link wsdlLocation}). A file is parsed
 * again when it changed; a URL once per process.
 * @throws WsdlProblem (key `wsdl`) with the reason: unreadable, not XML, not a WSDL.
 */
export async function loadWsdl(location: string, timeoutMs = 10_000): Promise<ParsedWsdl> {
  const remote = /^https?:\/\//i.test(location);
  let key = location;
  if (!remote) {
    const info = await stat(location).catch((e: NodeJS.ErrnoException) => {
      throw new WsdlProblem('wsdl', `cannot read ${location}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`);
    });
    key = `${location}@${info.mtimeMs}:${info.size}`;
  }
  let loading = cache.get(key);
  if (loading === undefined) {
    loading = (remote ? fetchText(location, timeoutMs) : readFile(location, 'utf8')).then((text) => parseWsdl(text, location));
    // A failure is not kept: the file may be fixed, the server may come back.
    loading.catch(() => cache.delete(key));
    cache.set(key, loading);
  }
  return loading;
}

async function fetchText(url: string, timeoutMs: number): Promise<string> {
  let res;
  try {
    res = await request(url, { headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  } catch (e) {
    throw new WsdlProblem('wsdl', `cannot fetch ${url}: ${(e as Error).message}`);
  }
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new WsdlProblem('wsdl', `cannot fetch ${url}: it answered ${res.statusCode}`);
  return text;
}

function parseWsdl(text: string, location: string): Promise<ParsedWsdl> {
  if (!/^\s*(<\?xml[^>]*>\s*)?(<!--[\s\S]*?-->\s*)*<[A-Za-z_]/.test(text)) {
    return Promise.reject(new WsdlProblem('wsdl', `${location} is not XML`));
  }
  return new Promise((done, fail) => {
    const bad = (e: unknown) => fail(new WsdlProblem('wsdl', `${location} is not a usable WSDL: ${(e as Error).message ?? String(e)}`));
    try {
      const wsdl = new soap.WSDL(text, location, {});
      wsdl.onReady((err: unknown) => {
        if (err) return bad(err);
        if (Object.keys(wsdl.definitions.services ?? {}).length === 0) return fail(new WsdlProblem('wsdl', `${location} defines no SOAP service`));
        done(wsdl);
      });
    } catch (e) {
      bad(e);
    }
  });
}

/**
 * The service and port a connector calls: the ones named, else the only one.
 * @throws WsdlProblem naming `service` or `port` when the choice is missing or unknown.
 */
export function selectPort(wsdl: ParsedWsdl, want: { service?: string | undefined; port?: string | undefined }): SoapPort {
  const services = wsdl.definitions.services as Record<string, { ports: Record<string, { location?: string; binding: { methods: Record<string, SoapMethod>; style?: string; $name?: string } }> }>;
  const service = pick('service', Object.keys(services), want.service);
  const ports = services[service]!.ports;
  const port = pick('port', Object.keys(ports), want.port);
  const { binding, location } = ports[port]!;
  const operations = new Map<string, SoapOperation>();
  for (const [name, method] of Object.entries(binding.methods)) {
    const style = (method.style || binding.style) === 'rpc' ? 'rpc' : 'document';
    operations.set(name, { name, style, soapAction: method.soapAction ?? '', method });
  }
  // The package keeps the WSDL text it parsed; the binding's SOAP version is read from it.
  const text = (wsdl as unknown as { xml: string }).xml;
  return { wsdl, service, port, version: bindingVersions(text).get(bindingOfPort(text, service, port) ?? '') ?? '1.1', location, operations };
}

function pick(key: 'service' | 'port', names: string[], wanted: string | undefined): string {
  if (wanted !== undefined) {
    if (names.includes(wanted)) return wanted;
    throw new WsdlProblem(key, `the WSDL has no ${key} "${wanted}"${suggest(wanted, names)}; it has: ${names.join(', ')}`);
  }
  if (names.length === 1) return names[0]!;
  throw new WsdlProblem(key, `the WSDL has ${names.length} ${key}s (${names.join(', ')}); name one with ${key}:`);
}

/** ` (did you mean "X"?)` for the closest name within a few edits, else nothing. */
export function suggest(word: string, names: readonly string[]): string {
  const guess = closest(word, names);
  return guess === undefined ? '' : ` (did you mean "${guess}"?)`;
}

const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', removeNSPrefix: false, isArray: (_name, _path, _leaf, isAttribute) => !isAttribute });

type Node = Record<string, unknown>;
const local = (name: string): string => name.slice(name.indexOf(':') + 1);
const children = (node: Node, name: string): Node[] =>
  Object.entries(node).filter(([k]) => !k.startsWith('@') && local(k) === name).flatMap(([, v]) => v as Node[]);

function definitionsOf(text: string): Node | undefined {
  return children(xml.parse(text) as Node, 'definitions')[0];
}

/** The binding name of a port, without its prefix. */
function bindingOfPort(text: string, service: string, port: string): string | undefined {
  const defs = definitionsOf(text);
  const s = defs && children(defs, 'service').find((n) => n['@name'] === service);
  const p = s && children(s, 'port').find((n) => n['@name'] === port);
  return typeof p?.['@binding'] === 'string' ? local(p['@binding']) : undefined;
}

/** Each binding's SOAP version, by the namespace of its `binding` child element. */
function bindingVersions(text: string): Map<string, SoapVersion> {
  const out = new Map<string, SoapVersion>();
  const defs = definitionsOf(text);
  if (defs === undefined) return out;
  for (const binding of children(defs, 'binding')) {
    const inner = Object.keys(binding).find((k) => !k.startsWith('@') && local(k) === 'binding');
    if (inner === undefined || typeof binding['@name'] !== 'string') continue;
    const prefix = inner.includes(':') ? inner.slice(0, inner.indexOf(':')) : '';
    const attr = prefix === '' ? '@xmlns' : `@xmlns:${prefix}`;
    const ns = (binding[attr] ?? defs[attr]) as string | undefined;
    out.set(binding['@name'], ns === SOAP12_BINDING_NS ? '1.2' : '1.1');
  }
  return out;
}
