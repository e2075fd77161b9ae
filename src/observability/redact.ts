/**
 * @module observability/redact
 * What must never be shown, and the helpers that hide it. Two complementary nets:
 *
 * - **by name**: credential headers, secret-looking keys and query parameters,
 *   whatever their value (pino redact paths, admin answers);
 * - **by value**: every secret resolved from the config (`${env:}`/`${file:}` in
 *   a secret field) is cut out of any text, wherever it turns up: a receiver
 *   that echoes the key it got in a 401 body or a `WWW-Authenticate` header, a
 *   JSON parse error quoting that body, a log line.
 */
import { isPlainObject } from '../core/record.ts';
import { isSecret, REDACTED } from '../core/secret.ts';

export { REDACTED };

/** Request and response headers that carry credentials; their values are never shown. */
export const SENSITIVE_HEADERS: readonly string[] = [
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
  'api-key',
  'x-auth-token',
  'x-access-token',
];

/** Object keys whose value is a credential wherever they appear in a logged object. */
export const SENSITIVE_KEYS: readonly string[] = [
  'password',
  'secret',
  'clientSecret',
  'client_secret',
  'token',
  'accessToken',
  'access_token',
  'refreshToken',
  'refresh_token',
  'apiKey',
  'api_key',
  'adminToken',
  'privateKey',
];

/** Query parameters that carry credentials (some webhook senders put their token in the URL). */
const SENSITIVE_QUERY = /^(?:access_token|api[-_]?key|apikey|key|token|secret|client_secret|password|sig|signature)$/i;

/** True for a query parameter's (decoded) name that carries a credential: its value is never stored nor shown. */
export function isSensitiveQueryName(name: string): boolean {
  return SENSITIVE_QUERY.test(name);
}

/** Shorter values are no secret worth the name, and cutting them would garble every text. */
const MIN_SECRET_LENGTH = 4;

/** Cuts known secret values out of a text. */
export type Scrub = (text: string) => string;

/** The scrub that changes nothing (no secrets configured). */
export const noScrub: Scrub = (text) => text;

/** A quoted piece shorter than this is not worth hiding (and may well be a word of ours). */
const MIN_PIECE_LENGTH = 6;

/**
 * A scrub for these values: each is replaced by `[redacted]`, as written and
 * as it appears inside a JSON string (escaped), longest first so that a secret
 * holding another is cut whole. A quoted piece of one is cut too: error
 * messages quote the start of the text they fail on, and the text may be an
 * answer that echoed a key.
 */
export function scrubber(values: Iterable<string>): Scrub {
  const forms = new Set<string>();
  for (const v of values) {
    if (v.length < MIN_SECRET_LENGTH) continue;
    forms.add(v);
    forms.add(JSON.stringify(v).slice(1, -1));
  }
  if (forms.size === 0) return noScrub;
  const ordered = [...forms].sort((a, b) => b.length - a.length);
  const isPiece = (inner: string): boolean => ordered.some((f) => f.includes(inner));
  return (text) => {
    let out = text;
    for (const f of ordered) if (out.includes(f)) out = out.split(f).join(REDACTED);
    return out.includes('"') ? cutQuotedPieces(out, isPiece) : out;
  };
}

/**
 * Replaces each quoted piece of text for which `isPiece` holds. Every stretch
 * between two quote marks is a candidate, so that quotes opened earlier on the
 * line cannot hide one; inside a JSON string the quotes are escaped (`\"…\"`).
 */
function cutQuotedPieces(text: string, isPiece: (inner: string) => boolean): string {
  const parts = text.split('"');
  for (let i = 1; i < parts.length - 1; i++) {
    const part = parts[i]!;
    const escaped = part.endsWith('\\');
    const inner = escaped ? part.slice(0, -1) : part;
    if (inner.length >= MIN_PIECE_LENGTH && isPiece(inner)) parts[i] = escaped ? `${REDACTED}\\` : REDACTED;
  }
  return parts.join('"');
}

/**
 * Where each secret of a parsed config can be read, in the forms in which it
 * goes on the wire and may come back: basic credentials (and an OAuth client's
 * id and secret) travel as base64 of `user:password`. Read on use, since a
 * secret may follow a file that is rotated.
 */
export function secretSources(config: unknown): (() => string)[] {
  const out: (() => string)[] = [];
  const walk = (v: unknown): void => {
    if (isSecret(v)) {
      out.push(() => v.reveal());
      return;
    }
    if (Array.isArray(v)) {
      for (const item of v) walk(item);
      return;
    }
    if (typeof v !== 'object' || v === null) return;
    const o = v as Record<string, unknown>;
    const { username, password, clientId, clientSecret } = o;
    if (typeof username === 'string' && isSecret(password)) out.push(() => basic(username, password.reveal()));
    // An OAuth client authenticates with basic credentials too, form-encoded first (RFC 6749 §2.3.1).
    if (typeof clientId === 'string' && isSecret(clientSecret)) {
      out.push(() => basic(clientId, clientSecret.reveal()), () => basic(formEncode(clientId), formEncode(clientSecret.reveal())));
    }
    for (const item of Object.values(o)) walk(item);
  };
  walk(config);
  return out;
}

function basic(user: string, password: string): string {
  return Buffer.from(`${user}:${password}`, 'utf8').toString('base64');
}

function formEncode(s: string): string {
  return encodeURIComponent(s).replace(/%20/g, '+');
}

/** Every secret value in a parsed config, as of now (see {@link secretSources}). */
export function secretValues(config: unknown): string[] {
  return secretSources(config).map((read) => read());
}

/** A scrub for the config's secrets that follows their current values. */
export function secretScrub(config: unknown): Scrub {
  const sources = secretSources(config);
  if (sources.length === 0) return noScrub;
  let key: string | undefined;
  let current: Scrub = noScrub;
  return (text) => {
    const values = sources.map((read) => read());
    const now = values.join('\0');
    if (now !== key) {
      key = now;
      current = scrubber(values);
    }
    return current(text);
  };
}

/** Applies `scrub` to every string inside a JSON-like value; returns the value itself when nothing changed. */
export function scrubDeep<T>(value: T, scrub: Scrub): T {
  if (scrub === noScrub) return value;
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return scrub(v);
    if (Array.isArray(v)) {
      const items = v.map(walk);
      return items.every((x, i) => x === v[i]) ? v : items;
    }
    if (!isPlainObject(v)) return v;
    let changed = false;
    const entries = Object.entries(v).map(([k, x]) => {
      const y = walk(x);
      if (y !== x) changed = true;
      return [k, y] as const;
    });
    return changed ? Object.fromEntries(entries) : v;
  };
  return walk(value) as T;
}

/** The headers with the value of each credential header replaced by `[redacted]`. */
export function redactHeaders(headers: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) out[k] = SENSITIVE_HEADERS.includes(k.toLowerCase()) ? REDACTED : v;
  return out;
}

/**
 * A URL or path with user info and credential-looking query values hidden,
 * e.g. `/hooks?token=abc` → `/hooks?token=[redacted]`. Anything else is kept as given.
 */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  let head = q < 0 ? url : url.slice(0, q);
  head = head.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, `$1${REDACTED}@`);
  if (q < 0) return head;
  const query = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = eq < 0 ? pair : pair.slice(0, eq);
      return eq >= 0 && isSensitiveQueryName(safeDecode(name)) ? `${name}=${REDACTED}` : pair;
    })
    .join('&');
  return `${head}?${query}`;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * pino redact paths: credential headers wherever a logged object carries
 * headers, and secret-looking keys at the top level and one level down.
 */
export function logRedactPaths(): string[] {
  const headerHolders = ['headers', 'req.headers', 'res.headers', 'request.headers', 'response.headers', 'err.response.headers', 'lastResponse.headers', '*.headers'];
  const paths: string[] = [];
  for (const holder of headerHolders) for (const h of SENSITIVE_HEADERS) paths.push(`${holder}["${h}"]`);
  for (const k of SENSITIVE_KEYS) paths.push(k, `*.${k}`);
  return paths;
}
