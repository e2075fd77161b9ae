// Calls to the admin API. The token travels in the Authorization header only,
// never in a URL, and is kept in this tab's sessionStorage (gone when the tab closes).

const KEY = 'junction.adminToken';

export function savedToken() {
  return sessionStorage.getItem(KEY) ?? '';
}

export function saveToken(token) {
  if (token) sessionStorage.setItem(KEY, token);
  else sessionStorage.removeItem(KEY);
}

/** An answer that is not 2xx: its status, its problem code and a sentence for the page. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** What the page says for a refusal of the token itself; undefined for any other failure. */
export function tokenProblem(err) {
  if (!(err instanceof ApiError)) return undefined;
  if (err.status === 401) return 'The admin token was refused: it is not the server.adminToken of this Junction.';
  if (err.code === 'JNC_ADMIN_DISABLED') return 'The admin API is off on this server: set server.adminToken in junction.yaml to enable it.';
  return undefined;
}

/**
 * Calls `/admin{path}` with the token. Resolves with the JSON answer; rejects
 * with an ApiError that carries the problem's detail.
 */
export async function call(token, path, { method = 'GET', body } = {}) {
  const headers = { authorization: `Bearer ${token}`, accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res;
  try {
    res = await fetch(`/admin${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store', credentials: 'omit' });
  } catch (e) {
    throw new ApiError(0, 'NETWORK', `Junction did not answer (${e instanceof Error ? e.message : String(e)}).`);
  }
  const text = await res.text();
  let json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    const err = new ApiError(res.status, json?.code ?? `HTTP_${res.status}`, json?.detail ?? `${res.status} ${res.statusText}`);
    const why = tokenProblem(err);
    if (why) dispatchEvent(new CustomEvent(REFUSED_EVENT, { detail: why }));
    throw err;
  }
  return json;
}

/** Dispatched on window when a call's token is refused; its detail says why. */
export const REFUSED_EVENT = 'junction:token-refused';

/** A query string of the given fields, those empty left out. */
export function query(fields) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}
