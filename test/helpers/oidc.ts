/**
 * @module test/helpers/oidc
 * A real OAuth 2.0 / OpenID Connect authorization server on loopback
 * (oidc-provider), for the outbound OAuth client and the inbound JWT check:
 * the "OAuth server" of DESIGN.md "Testing against real things".
 *
 * ```ts
 * const oidc = await startOidc({ accessTokenTtlSec: 2 });
 * t.after(() => oidc.close());
 * const { clientId, clientSecret } = oidc.client;       // the default client
 * // outbound: point `auth.oauth2.tokenUrl` at oidc.tokenUrl
 * // inbound: a JWT signed by this server, checked against oidc.jwksUrl
 * const jwt = await oidc.issueAccessToken({ audience: 'https://api.test/', scope: 'orders.read' });
 * const rt = await oidc.issueRefreshToken({ scope: 'contacts.write' });  // for the refresh_token grant
 * oidc.revokeClient(clientId);                           // now: 401 invalid_client
 * oidc.failNext(2);                                      // the next two token requests: 503
 * oidc.tokenRequests                                     // every token request, in order
 * ```
 *
 * What it serves (all real oidc-provider endpoints, under `issuer`):
 * - `POST /token`: `client_credentials` and `refresh_token`, with
 *   `client_secret_basic` or `client_secret_post`. Refresh tokens are rotated
 *   on every use; presenting a used one again is refused with `invalid_grant`
 *   and, as the spec advises against token theft, revokes the whole grant.
 * - JWT access tokens (RS256, `kid` in the JWKS) whenever the request names a
 *   resource indicator (RFC 8707 `resource=…`, an absolute URI): `aud` is that
 *   URI, `iss` the issuer, `client_id` and `scope` as granted. Any absolute
 *   URI is accepted as a resource. Without one, access tokens are opaque.
 *   `defaultAudience` makes every client_credentials token a JWT for it.
 * - `GET /jwks`, `GET /.well-known/openid-configuration`,
 *   `POST /token/introspection`, `POST /token/revocation`.
 *
 * Scopes: any of `opts.scopes` (default `contacts.write contacts.read
 * orders.read orders.write`) plus `openid offline_access`. A client with a
 * `scope` may ask only for those.
 *
 * Lifetimes are in whole seconds (the OAuth `expires_in` unit; 1 is the
 * least), and can be changed while running with `setAccessTokenTtl`.
 *
 * Each server has its own in-memory storage, so several can run in one
 * process. The server prints nothing: oidc-provider's development notices are
 * avoided by configuring every policy it would otherwise warn about.
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import Provider, { errors, type Adapter, type AdapterPayload, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';

/** A registered client (confidential, secret-based). */
export interface OidcClient {
  clientId: string;
  clientSecret: string;
  /** Space-separated scopes this client may request; absent: any known scope. */
  scope?: string;
}

/** One request to the token endpoint, as the server saw it. */
export interface TokenRequest {
  /** `client_credentials`, `refresh_token`, … (undefined when failed before parsing, e.g. `failNext`). */
  grantType: string | undefined;
  clientId: string | undefined;
  /** `issued`: tokens were returned; `refused`: an OAuth error (see `error`); `unavailable`: `failNext` answered 503. */
  outcome: 'issued' | 'refused' | 'unavailable';
  /** The OAuth `error` code when refused, e.g. `invalid_client`, `invalid_grant`. */
  error?: string;
  /** Date.now() when answered. */
  at: number;
}

export interface OidcOptions {
  /** Default: one client `{ clientId: 'junction', clientSecret: 'junction-secret' }`. */
  clients?: OidcClient[];
  /** Scopes the server knows (besides `openid offline_access`). */
  scopes?: string[];
  /** Lifetime of access tokens (opaque and JWT), in seconds; default 300. */
  accessTokenTtlSec?: number;
  /** Lifetime of refresh tokens, in seconds; default 86400. */
  refreshTokenTtlSec?: number;
  /** A resource indicator applied to client_credentials requests that name none: their tokens become JWTs for it. */
  defaultAudience?: string;
  /** Default 0: a free port. */
  port?: number;
}

export interface OidcServer {
  /** `http://127.0.0.1:PORT`, no trailing slash; the `iss` of every JWT. */
  readonly issuer: string;
  readonly tokenUrl: string;
  readonly jwksUrl: string;
  readonly introspectionUrl: string;
  readonly revocationUrl: string;
  readonly discoveryUrl: string;
  /** Registered clients, in order of registration (revoked ones removed). */
  readonly clients: readonly OidcClient[];
  /** The first client registered. */
  readonly client: OidcClient;
  /** Every token endpoint request answered so far, in order. */
  readonly tokenRequests: readonly TokenRequest[];
  /** Registers (or replaces) a client; it may ask for tokens at once. */
  addClient(client: OidcClient): void;
  /** Forgets a client: its next token request is refused with 401 `invalid_client`. */
  revokeClient(clientId: string): void;
  /** The next `count` token requests (default 1) answer 503 without reaching the provider: a token endpoint that is down. */
  failNext(count?: number): void;
  /** Changes the lifetime of access tokens issued from now on. */
  setAccessTokenTtl(seconds: number): void;
  /**
   * A JWT access token signed by this server, obtained through the real token
   * endpoint (client_credentials with `resource=audience`). `audience` must be
   * an absolute URI. `scope` must be known (see `OidcOptions.scopes`).
   * `clientId` default: the first client's. The token's `exp` follows the
   * current access token lifetime, or `ttlSec` when given.
   */
  issueAccessToken(opts: { audience: string; scope?: string; clientId?: string; ttlSec?: number }): Promise<string>;
  /**
   * A fresh refresh token for a client (default: the first), as if a user
   * (`accountId`, default `user-1`) had granted `offline_access` and `scope`.
   * Made directly through oidc-provider's models, since a real grant needs a
   * browser; using it at the token endpoint is fully real.
   */
  issueRefreshToken(opts?: { clientId?: string; scope?: string; accountId?: string }): Promise<string>;
  /** RFC 7662 introspection through the real endpoint, authenticated as the first client. */
  introspect(token: string): Promise<{ active: boolean; client_id?: string; scope?: string; exp?: number; [k: string]: unknown }>;
  close(): Promise<void>;
}

const DEFAULT_SCOPES = ['contacts.write', 'contacts.read', 'orders.read', 'orders.write'];

export async function startOidc(opts: OidcOptions = {}): Promise<OidcServer> {
  const clients = new Map<string, OidcClient>();
  const tokenRequests: TokenRequest[] = [];
  let accessTtl = opts.accessTokenTtlSec ?? 300;
  let outages = 0;
  // Set per token request by issueAccessToken, read by the TTL policy; requests are
  // answered one at a time per await chain, and only tests call issueAccessToken.
  const ttlOverrides = new Map<string, number>();

  const sockets = new Set<Socket>();
  // The request listener is added once the provider exists: its issuer needs the port.
  const server = createServer();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const storage = new Map<string, Stored>();
  const scopes = opts.scopes ?? DEFAULT_SCOPES;
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), alg: 'RS256', use: 'sig' };

  const ttlFor = (ctx: KoaContextWithOIDC | undefined): number => {
    const key = ctx?.oidc?.params?.resource;
    return (typeof key === 'string' && ttlOverrides.get(key)) || accessTtl;
  };

  const configuration: Configuration = {
    adapter: (model: string) => new MapAdapter(model, storage),
    jwks: { keys: [jwk] },
    scopes: ['openid', 'offline_access', ...scopes],
    findAccount: (_ctx, sub) => ({ accountId: sub, claims: () => ({ sub }) }),
    rotateRefreshToken: true,
    clientBasedCORS: () => false,
    issueRefreshToken: (_ctx, client, code) => client.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access'),
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true, allowedPolicy: () => true },
      revocation: { enabled: true, allowedPolicy: () => true },
      resourceIndicators: {
        enabled: true,
        defaultResource: (ctx, _client, oneOf) => {
          if (oneOf) return oneOf;
          if (ctx.oidc.params?.grant_type === 'client_credentials' && opts.defaultAudience) return opts.defaultAudience;
          return undefined as unknown as string;
        },
        useGrantedResource: () => true,
        getResourceServerInfo: (ctx, resource) => {
          if (!/^https?:\/\//.test(resource)) throw new errors.InvalidTarget();
          return {
            audience: resource,
            scope: scopes.join(' '),
            accessTokenFormat: 'jwt',
            accessTokenTTL: ttlFor(ctx),
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
    ttl: {
      AccessToken: (ctx) => ttlFor(ctx),
      ClientCredentials: (ctx) => ttlFor(ctx),
      RefreshToken: opts.refreshTokenTtlSec ?? 86_400,
      Grant: opts.refreshTokenTtlSec ?? 86_400,
      IdToken: 3600,
      Interaction: 3600,
      Session: 86_400,
    },
  };
  const provider = new Provider(issuer, configuration);

  const record = (ctx: KoaContextWithOIDC, outcome: TokenRequest['outcome'], error?: string): void => {
    const grantType = ctx.oidc?.params?.grant_type;
    tokenRequests.push({
      grantType: typeof grantType === 'string' ? grantType : undefined,
      clientId: ctx.oidc?.client?.clientId ?? clientIdOf(ctx),
      outcome,
      ...(error === undefined ? {} : { error }),
      at: Date.now(),
    });
  };
  provider.on('grant.success', (ctx: KoaContextWithOIDC) => record(ctx, 'issued'));
  provider.on('grant.error', (ctx: KoaContextWithOIDC, err: errors.OIDCProviderError) => record(ctx, 'refused', err.error));
  // grant.error also covers client authentication (invalid_client), which fails before any grant handler.
  provider.on('server_error', (_ctx: KoaContextWithOIDC, err: Error) => console.error('oidc test server error:', err));
  const callback = provider.callback();
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (req.method === 'POST' && req.url?.split('?')[0] === '/token' && outages > 0) {
      outages -= 1;
      tokenRequests.push({ grantType: undefined, clientId: undefined, outcome: 'unavailable', at: Date.now() });
      req.resume();
      res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"temporarily_unavailable"}');
      return;
    }
    void callback(req, res);
  });

  const addClient = (client: OidcClient): void => {
    clients.set(client.clientId, client);
    const metadata: AdapterPayload = {
      client_id: client.clientId,
      client_secret: client.clientSecret,
      grant_types: ['client_credentials', 'refresh_token', 'authorization_code'],
      redirect_uris: ['http://127.0.0.1/cb'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      ...(client.scope ? { scope: `openid offline_access ${client.scope}` } : {}),
    };
    // Dynamic clients (looked up through the adapter on every request) so that
    // revoking one takes effect at once; static clients would be cached.
    storage.set(`Client:${client.clientId}`, { payload: metadata, expiresAt: Infinity });
  };
  for (const c of opts.clients ?? [{ clientId: 'junction', clientSecret: 'junction-secret' }]) addClient(c);
  const first = (): OidcClient => {
    const c = clients.values().next().value;
    if (!c) throw new Error('oidc: no client registered');
    return c;
  };
  const clientOf = (id: string | undefined): OidcClient => {
    const c = id === undefined ? first() : clients.get(id);
    if (!c) throw new Error(`oidc: unknown client ${id}`);
    return c;
  };
  const basic = (c: OidcClient): string =>
    'Basic ' + Buffer.from(`${encodeURIComponent(c.clientId)}:${encodeURIComponent(c.clientSecret)}`).toString('base64');

  const tokenUrl = `${issuer}/token`;
  return {
    issuer,
    tokenUrl,
    jwksUrl: `${issuer}/jwks`,
    introspectionUrl: `${issuer}/token/introspection`,
    revocationUrl: `${issuer}/token/revocation`,
    discoveryUrl: `${issuer}/.well-known/openid-configuration`,
    get clients() {
      return [...clients.values()];
    },
    get client() {
      return first();
    },
    tokenRequests,
    addClient,
    revokeClient(clientId) {
      clients.delete(clientId);
      storage.delete(`Client:${clientId}`);
    },
    failNext(count = 1) {
      outages += count;
    },
    setAccessTokenTtl(seconds) {
      accessTtl = seconds;
    },
    async issueAccessToken({ audience, scope, clientId, ttlSec }) {
      const c = clientOf(clientId);
      if (ttlSec !== undefined) ttlOverrides.set(audience, ttlSec);
      try {
        const body = new URLSearchParams({ grant_type: 'client_credentials', resource: audience });
        if (scope) body.set('scope', scope);
        const res = await fetch(tokenUrl, { method: 'POST', headers: { authorization: basic(c) }, body });
        const json = (await res.json()) as { access_token?: string; error?: string; error_description?: string };
        if (!res.ok || !json.access_token) throw new Error(`oidc: token request failed: ${json.error}: ${json.error_description}`);
        return json.access_token;
      } finally {
        if (ttlSec !== undefined) ttlOverrides.delete(audience);
      }
    },
    async issueRefreshToken({ clientId, scope, accountId = 'user-1' } = {}) {
      const c = clientOf(clientId);
      const client = await provider.Client.find(c.clientId);
      if (!client) throw new Error(`oidc: unknown client ${c.clientId}`);
      const scopeValue = ['offline_access', ...(scope ? scope.split(' ') : [])].join(' ');
      const grant = new provider.Grant({ clientId: c.clientId, accountId });
      grant.addOIDCScope(scopeValue);
      const grantId = await grant.save();
      const token = new provider.RefreshToken({ client, accountId, grantId, scope: scopeValue, gty: 'authorization_code' });
      return token.save();
    },
    async introspect(token) {
      const res = await fetch(`${issuer}/token/introspection`, {
        method: 'POST',
        headers: { authorization: basic(first()) },
        body: new URLSearchParams({ token }),
      });
      return (await res.json()) as { active: boolean };
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The client a request claimed to be, for requests refused before the client was found. */
function clientIdOf(ctx: KoaContextWithOIDC): string | undefined {
  const param = ctx.oidc?.params?.client_id;
  if (typeof param === 'string') return param;
  const auth = ctx.get('authorization');
  if (!auth.toLowerCase().startsWith('basic ')) return undefined;
  const decoded = Buffer.from(auth.slice(6), 'base64').toString();
  return decodeURIComponent(decoded.slice(0, decoded.indexOf(':')));
}

interface Stored {
  payload: AdapterPayload;
  /** ms since epoch; Infinity for clients. */
  expiresAt: number;
}

/**
 * oidc-provider's storage, one Map per server. Its own memory adapter keeps a
 * module-wide store by default, which two servers in one test file would share.
 */
class MapAdapter implements Adapter {
  private readonly model: string;
  private readonly storage: Map<string, Stored>;

  constructor(model: string, storage: Map<string, Stored>) {
    this.model = model;
    this.storage = storage;
  }

  private key(id: string): string {
    return `${this.model}:${id}`;
  }

  private live(key: string): AdapterPayload | undefined {
    const stored = this.storage.get(key);
    if (!stored) return undefined;
    if (stored.expiresAt <= Date.now()) {
      this.storage.delete(key);
      return undefined;
    }
    return stored.payload;
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
    this.storage.set(this.key(id), { payload, expiresAt: expiresIn === undefined ? Infinity : Date.now() + expiresIn * 1000 });
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    return this.live(this.key(id));
  }

  async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    for (const [key] of this.storage) {
      if (!key.startsWith(`${this.model}:`)) continue;
      const p = this.live(key);
      if (p?.userCode === userCode) return p;
    }
    return undefined;
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    for (const [key] of this.storage) {
      if (!key.startsWith(`${this.model}:`)) continue;
      const p = this.live(key);
      if (p?.uid === uid) return p;
    }
    return undefined;
  }

  async consume(id: string): Promise<void> {
    const p = this.live(this.key(id));
    if (p) p.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id: string): Promise<void> {
    this.storage.delete(this.key(id));
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    for (const [key, stored] of this.storage) {
      if (stored.payload.grantId === grantId && !key.startsWith('Client:')) this.storage.delete(key);
    }
  }
}
