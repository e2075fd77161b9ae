/**
 * OAuth 2.0 outbound credentials against a real authorization server on
 * loopback (oidc-provider, test/helpers/oidc): client credentials and rotated
 * refresh tokens, one token per store shared by every call, renewal before
 * expiry and after a 401, and clear failures when the server refuses or is down.
 *
 * Time is a ManualClock where renewal before expiry is tested, so nothing sleeps;
 * the authorization server keeps real time, and its tokens stay valid throughout.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, it, type TestContext } from 'node:test';
import { tokenKey } from '../../src/auth/outbound/oauth2.ts';
import type { Connector } from '../../src/connectors/connector.ts';
import { restConnectorOptions } from '../../src/connectors/rest.ts';
import type { Json, Message } from '../../src/core/message.ts';
import { silentLogger } from '../../src/observability/logger.ts';
import { sendRequest } from '../../src/steps/request.ts';
import { createSqliteStore } from '../../src/store/sqlite/store.ts';
import type { Store } from '../../src/store/store.ts';
import { ManualClock } from '../helpers/clock.ts';
import { testRestConnector } from '../helpers/connector.ts';
import { startTestEngine, tempDir } from '../helpers/engine.ts';
import { startOidc, type OidcOptions, type OidcServer } from '../helpers/oidc.ts';
import { serve } from '../helpers/servers.ts';
import { startTestSink, type Sink } from '../helpers/sink.ts';

const SECRET = 'junction-secret';

async function oidcServer(t: TestContext, opts: OidcOptions = {}): Promise<OidcServer> {
  const oidc = await startOidc(opts);
  t.after(() => oidc.close());
  return oidc;
}

/** A migrated SQLite store in a temp dir; `open()` again gives another store on the same file (another process). */
function storeFile(t: TestContext): { open(clock?: ManualClock): Promise<Store> } {
  const path = join(tempDir(t), 'junction.db');
  return {
    async open(clock) {
      const store = createSqliteStore({ path, ...(clock ? { clock } : {}) });
      t.after(() => store.close());
      await store.migrate();
      return store;
    },
  };
}

function connector(t: TestContext, baseUrl: string, oauth2: Record<string, unknown>, deps: { store?: Store; clock?: ManualClock } = {}): Connector {
  return testRestConnector(t, 'crm', { baseUrl, timeoutMs: 3000, auth: { oauth2 } }, { tokens: deps.store?.tokens, clock: deps.clock });
}

const message = (body: Json = { orderId: 1 }): Message => ({ id: 'm-1', flow: 'f', attempt: 1, idempotencyKey: 'k-1', body, headers: {}, meta: {} });

/** One request as deliver sends it, with the refresh-once rule of steps/request. */
function post(c: Connector, idempotencyKey = 'k-1') {
  return sendRequest(c, { method: 'POST', path: '/orders', body: '{}', headers: { 'content-type': 'application/json' }, idempotencyKey }, message(), {
    signal: new AbortController().signal,
    logger: silentLogger,
    clock: Date,
  });
}

/** The store key the connector `crm` keeps its token under. */
function keyOf(oauth2: Record<string, unknown>): string {
  const parsed = restConnectorOptions.parse({ type: 'rest', baseUrl: 'http://127.0.0.1:1', auth: { oauth2 } }).auth?.oauth2;
  assert.ok(parsed);
  return tokenKey('crm', parsed);
}

const bearerOf = (sink: Sink, i: number): string | undefined => sink.requests[i]?.headers.authorization?.replace(/^Bearer /, '');
const grants = (oidc: OidcServer, outcome = 'issued') => oidc.tokenRequests.filter((r) => r.outcome === outcome);

/** A protected API that checks each bearer token with the authorization server (RFC 7662), as a real resource server does. */
async function guardedApi(t: TestContext, oidc: OidcServer): Promise<{ url: string; seen: string[] }> {
  const seen: string[] = [];
  const { url } = await serve(t, (req, res) => {
    req.resume();
    const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
    seen.push(token);
    void oidc.introspect(token).then((info) => {
      if (info.active) res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      else res.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"' }).end();
    });
  });
  return { url, seen };
}

describe('oauth2: client credentials', () => {
  it('fetches a token and sends it as Authorization: Bearer; the server knows it, with the scope asked for', async (t) => {
    const oidc = await oidcServer(t);
    const sink = await startTestSink(t);
    const c = connector(t, sink.url, { tokenUrl: oidc.tokenUrl, clientId: 'junction', clientSecret: SECRET, scope: 'contacts.write' });
    const res = await post(c);
    assert.equal(res.status, 200);
    const token = bearerOf(sink, 0);
    assert.ok(token);
    const info = await oidc.introspect(token);
    assert.equal(info.active, true);
    assert.equal(info.client_id, 'junction');
    assert.equal(info.scope, 'contacts.write');
    assert.deepEqual(
      oidc.tokenRequests.map((r) => [r.grantType, r.clientId, r.outcome]),
      [['client_credentials', 'junction', 'issued']],
    );
  });

  it('client_secret_post and a resource indicator: a JWT access token for that audience', async (t) => {
    const oidc = await oidcServer(t);
    const sink = await startTestSink(t);
    const c = connector(t, sink.url, {
      tokenUrl: oidc.tokenUrl,
      clientId: 'junction',
      clientSecret: SECRET,
      authMethod: 'client_secret_post',
      resource: 'https://crm.test/',
      scope: 'contacts.read',
    });
    await post(c);
    const [, payload] = (bearerOf(sink, 0) ?? '').split('.');
    const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString()) as Record<string, unknown>;
    assert.equal(claims.aud, 'https://crm.test/');
    assert.equal(claims.iss, oidc.issuer);
    assert.equal(claims.scope, 'contacts.read');
  });

  it('reuses one token for many calls, sequential and concurrent: one token request', async (t) => {
    const oidc = await oidcServer(t);
    const sink = await startTestSink(t);
    const c = connector(t, sink.url, { tokenUrl: oidc.tokenUrl, clientId: 'junction', clientSecret: SECRET });
    for (let i = 0; i < 5; i++) await post(c);
    await Promise.all(Array.from({ length: 20 }, () => post(c)));
    assert.equal(sink.requests.length, 25);
    assert.equal(new Set(sink.requests.map((r) => r.headers.authorization)).size, 1);
    assert.equal(oidc.tokenRequests.length, 1);
  });

  it('single flight: 30 concurrent calls with no token make one token request', async (t) => {
    const oidc = await oidcServer(t);
    const sink = await startTestSink(t);
    const c = connector(t, sink.url, { tokenUrl: oidc.tokenUrl, clientId: 'junction', clientSecret: SECRET });
    const results = await Promise.all(Array.from({ length: 30 }, () => post(c)));
    assert.ok(results.every((r) => r.status === 200));
    assert.equal(oidc.tokenRequests.length, 1);
    assert.equal(new Set(sink.requests.map((r) => r.headers.authorization)).size, 1);
  });

  it('renews the token refreshBeforeMs before it expires, and not before', async (t) => {
    const oidc = await oidcServer(t, { accessTokenTtlSec: 300 });
    const sink = await startTestSink(t);
    const clock = new ManualClock(Date.now());
    const c = connector(t, sink.url, { tokenUrl: oidc.tokenUrl, clientId: 'junction', clientSecret: SECRET, refreshBeforeMs: 30_000 }, { clock });
    await post(c);
    clock.advance(269_000);
    await post(c);
    assert.equal(oidc.tokenRequests.length, 1, 'still 31 s to go: the same token');
    clock.advance(2_000);
    await post(c);
    assert.equal(oidc.tokenRequests.length, 2, '29 s to go: renewed');
    assert.notEqual(bearerOf(sink, 2), bearerOf(sink, 1));
    assert.equal(bearerOf(sink, 1), bearerOf(sink, 0));
  });

  it('a token that lives less than refreshBeforeMs is renewed at half its lifetime, not on every call', async (t) => {
    const oidc = await oidcServer(t, { accessTokenTtlSec: 2 });
    const sink = await startTestSink(t);
    const clock = new ManualClock(Date.now());
    const c = connector(t, sink.url, { tokenUrl: oidc.tokenUrl, clientId: 'junction', clientSecret: SECRET }, { clock });
    await post(c);
    await post(c);
    clock.advance(900);
    await post(c);
    assert.equal(oidc.tokenRequests.length, 1);
    clock.advance(200);
    await post(c);
    assert.equal(oidc.tokenRequests.length, 2);
  });

  it('the token is kept in the store: another process on the same store uses it, and so does a restart', async (t) => {
    const oidc = await oidcServer(t);
    const sink = await startTestSink(t);
    const file = storeFile(t);
    const oauth2 = { tokenUrl: oidc.tokenUrl, clientId: 'junction', clientSecret: SECRET, scope: 'orders.write' };
    const first = connector(t, sink.url, oauth2, { store: await file.open() });
    await post(first);
    const second = connector(t, sink.url, oauth2, { store: await file.open() });
    await post(second);
    const first2 = await file.open();
    await first.close();
    const restarted = connector(t, sink.url, oauth2, { store: first2 });
    await post(restarted);
    assert.equal(oidc.tokenRequests.length, 1);
    assert.equal(new Set(sink.requests.map((r) => r.headers.authorization)).size, 1);
  });

  it('another process renewing the token first: this one takes the stored token instead of asking again', async (t) => {
    const oidc = await oidcServer(t, { accessTokenTtlSec: 300 });
    const sink = await startTestSink(t);
    const file = storeFile(t);
    const clock = new ManualClock(Date.now());
    const oauth2 = { tokenUrl: oidc.tokenUrl, clientId: 'junction', clientSecret: SECRET };
    const a = connector(t, sink.url, oauth2, { store: await file.open(clock), clock });
    const b = connector(t, sink.url, oauth2, { store: await file.open(clock), clock });
    await post(a);
    await post(b);
    clock.advance(280_000);
    await post(a); // renews and stores
    await post(b); // its copy is due: reads the store, finds a's fresh token
    assert.equal(oidc.tokenRequests.length, 2);
    assert.equal(bearerOf(sink, 3), bearerOf(sink, 2));
  });

  it('a different scope is a different token', async (t) => {
    const oidc = await oidcServer(t);
    const sink = await startTestSink(t);
    const store = await storeFile(t).open();
    await post(connector(t, sink.url, { tokenUrl: oidc.tokenUrl, clientId: 'junction', clientSecret: SECRET, scope: 'orders.read' }, { store }));
    await post(connector(t, sink.url, { tokenUrl: oidc.tokenUrl, clientId: 'junction', clientSecret: SECRET, scope: 'orders.write' }, { store }));
    assert.equal(oidc.tokenRequests.length, 2);
  });
});

describe('oauth2: a 401 from the system', () => {
  it('a token the system refuses once is renewed once, and the call sent again succeeds', async (t) => {
    const oidc = await oidcServer(t);
    const sink = await startTestSink(t);
    const c = connector(t, sink.url, { tokenUrl: oidc.tokenUrl, clientId: 'junction', clientSecret: SECRET });
    sink.plan(['401']);
    const res = await post(c);
    assert.equal(res.status, 200);
    assert.equal(sink.requests.length, 2);
    assert.notEqual(bearerOf(sink, 1), bearerOf(sink, 0), 'sent again with a new token');
    assert.equal(grants(oidc).length, 2);
  });

  it('a token revoked at the server: a resource server that introspects answers 401, the retry with a new token passes', async (t) => {
    const oidc = await oidcServer(t);
    const api = await guardedApi(t, oidc);
    const c = connector(t, api.url, { tokenUrl: oidc.tokenUrl, clientId: 'junction', clientSecret: SECRET });
    await post(c);
    const old = api.seen[0] ?? '';
    const revoke = await fetch(oidc.revocationUrl, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`junction:${SECRET}`).toString('base64')}` },
      body: new URLSearchParams({ token: old }),
    });
    assert.equal(revoke.status, 200);
    const res = await post(c);
    assert.equal(res.status, 200);
    assert.deepEqual(api.seen.slice(1).map((s) => s === old), [true, false]);
  });

  it('concurrent calls refused with the same token renew it once', async (t) => {
    const oidc = await oidcServer(t);
    const sink = await startTestSink(t);
    const c = connector(t, sink.url, { tokenUrl: oidc.tokenUrl, clientId: 'junction', clientSecret: SECRET });
    await post(c);
    const keys = ['a', 'b', 'c', 'd', 'e'];
    for (const key of keys) sink.plan(['401'], { key });
    const results = await Promise.all(keys.map((key) => post(c, key)));
    assert.ok(results.every((r) => r.status === 200));
    assert.equal(grants(oidc).length, 2, 'one token at first, one renewal for the five refusals');
  });

  it('refused twice: JNC_AUTH_REFUSED, permanent, after exactly one renewal', async (t) => {
    const oidc = await oidcServer(t);
    const sink = await startTestSink(t);
    const c = connector(t, sink.url, { tokenUrl: oidc.tokenUrl, clientId: 'junction', clientSecret: SECRET });
    sink.plan(['401', '401']);
    await assert.rejects(post(c), (e: Error & { code?: string; retryable?: boolean; family?: string }) => {
      assert.equal(e.code, 'JNC_AUTH_REFUSED');
      assert.equal(e.family, 'permanent');
      return true;
    });
    assert.equal(sink.requests.length, 2);
    assert.equal(grants(oidc).length, 2);
  });

  it('a refused answer that echoes the token has it cut out before it can reach a dead letter', async (t) => {
    const oidc = await oidcServer(t);
    const echo = await serve(t, (req, res) => {
      req.resume();
      res.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': `Bearer error="invalid_token" token="${req.headers.authorization}"` });
      res.end(`token ${req.headers.authorization} is not welcome`);
    });
    const c = connector(t, echo.url, { tokenUrl: oidc.tokenUrl, clientId: 'junction', clientSecret: SECRET });
    const err = await post(c).then(
      () => assert.fail('expected a rejection'),
      (e: unknown) => e as { code: string; response?: { bodyExcerpt: string; headers: Record<string, string> } },
    );
    assert.equal(err.code, 'JNC_AUTH_REFUSED');
    assert.match(err.response?.bodyExcerpt ?? '', /^token Bearer \[redacted\] is not welcome$/);
    assert.match(err.response?.headers['www-authenticate'] ?? '', /\[redacted\]/);
  });
});

describe('oauth2: the token endpoint fails', () => {
  it('a revoked client: JNC_OAUTH_REFUSED with invalid_client, permanent, never the secret; the system is not called', async (t) => {
    const oidc = await oidcServer(t);
    const sink = await startTestSink(t);
    oidc.revokeClient('junction');
    const c = connector(t, sink.url, { tokenUrl: oidc.tokenUrl, clientId: 'junction', clientSecret: SECRET });
    await assert.rejects(post(c), (e: Error & { code?: string; family?: string; details?: Record<string, unknown> }) => {
      assert.equal(e.code, 'JNC_OAUTH_REFUSED');
      assert.equal(e.family, 'permanent');
      assert.match(e.message, /Connector crm: the token endpoint refused the credentials: invalid_client/);
      assert.equal(e.details?.error, 'invalid_client');
      assert.equal(e.details?.status, 401);
      assert.ok(!JSON.stringify({ m: e.message, d: e.details, c: String(e.cause) }).includes(SECRET));
      return true;
    });
    assert.equal(sink.requests.length, 0);
  });

  it('a wrong secret or an unknown client: the same clear failure', async (t) => {
    const oidc = await oidcServer(t);
    const sink = await startTestSink(t);
    const wrong = connector(t, sink.url, { tokenUrl: oidc.tokenUrl, clientId: 'junction', clientSecret: 'not-it' });
    await assert.rejects(post(wrong), { code: 'JNC_OAUTH_REFUSED' });
    const unknown = connector(t, sink.url, { tokenUrl: oidc.tokenUrl, clientId: 'nobody', clientSecret: SECRET, authMethod: 'client_secret_post' });
    await assert.rejects(post(unknown), { code: 'JNC_OAUTH_REFUSED' });
  });

  it('a scope the client may not have: JNC_OAUTH_REFUSED invalid_scope', async (t) => {
    const oidc = await oidcServer(t, { clients: [{ clientId: 'junction', clientSecret: SECRET, scope: 'orders.read' }] });
    const sink = await startTestSink(t);
    const c = connector(t, sink.url, { tokenUrl: oidc.tokenUrl, clientId: 'junction', clientSecret: SECRET, scope: 'orders.write' });
    await assert.rejects(post(c), (e: Error & { code?: string; details?: Record<string, unknown> }) => {
      assert.equal(e.code, 'JNC_OAUTH_REFUSED');
      assert.equal(e.details?.error, 'invalid_scope');
      return true;
    });
  });

  it('a token endpoint answering 503: JNC_OAUTH_UNAVAILABLE, transient; the next try gets a token', async (t) => {
    const oidc = await oidcServer(t);
    const sink = await startTestSink(t);
    const c = connector(t, sink.url, { tokenUrl: oidc.tokenUrl, clientId: 'junction', clientSecret: SECRET });
    oidc.failNext(1);
    await assert.rejects(post(c), (e: Error & { code?: string; family?: string }) => {
      assert.equal(e.code, 'JNC_OAUTH_UNAVAILABLE');
      assert.equal(e.family, 'transient');
      assert.match(e.message, /503/);
      return true;
    });
    assert.equal((await post(c)).status, 200);
    assert.equal(sink.requests.length, 1);
  });

  it('a token endpoint nobody listens on: JNC_OAUTH_UNAVAILABLE, transient', async (t) => {
    const oidc = await oidcServer(t);
    const tokenUrl = oidc.tokenUrl;
    await oidc.close();
    const sink = await startTestSink(t);
    const c = connector(t, sink.url, { tokenUrl, clientId: 'junction', clientSecret: SECRET });
    await assert.rejects(post(c), (e: Error & { code?: string; family?: string }) => {
      assert.equal(e.code, 'JNC_OAUTH_UNAVAILABLE');
      assert.equal(e.family, 'transient');
      assert.match(e.message, /ECONNREFUSED/);
      return true;
    });
  });

  it('a token endpoint that never answers: the call fails transient within timeoutMs, and the system is not called', async (t) => {
    const hanging = await startTestSink(t, { default: 'hang' });
    const sink = await startTestSink(t);
    const c = testRestConnector(t, 'crm', {
      baseUrl: sink.url,
      timeoutMs: 300,
      auth: { oauth2: { tokenUrl: `${hanging.url}/token`, clientId: 'junction', clientSecret: SECRET } },
    });
    const started = Date.now();
    await assert.rejects(post(c), (e: Error & { code?: string; family?: string }) => {
      // The whole-call deadline and the token request's own one are both timeoutMs; either may report it.
      assert.ok(['JNC_CONN_TIMEOUT', 'JNC_OAUTH_UNAVAILABLE'].includes(e.code ?? ''), e.code);
      assert.equal(e.family, 'transient');
      return true;
    });
    assert.ok(Date.now() - started < 2000);
    assert.equal(hanging.requests.length, 1);
    assert.equal(sink.requests.length, 0);
  });

  it('a token endpoint that is not one (404, not JSON): JNC_OAUTH_REFUSED naming the status', async (t) => {
    const oidc = await oidcServer(t);
    const sink = await startTestSink(t);
    const c = connector(t, sink.url, { tokenUrl: `${oidc.issuer}/no-such-endpoint`, clientId: 'junction', clientSecret: SECRET });
    await assert.rejects(post(c), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'JNC_OAUTH_REFUSED');
      assert.match(e.message, /404/);
      return true;
    });
  });
});

describe('oauth2: refresh token grant', () => {
  it('uses the configured refresh token, stores the rotated one, and uses that next time (a restart too)', async (t) => {
    const oidc = await oidcServer(t, { accessTokenTtlSec: 300 });
    const sink = await startTestSink(t);
    const file = storeFile(t);
    const clock = new ManualClock(Date.now());
    const store = await file.open(clock);
    const configured = await oidc.issueRefreshToken({ scope: 'contacts.write' });
    const oauth2 = { tokenUrl: oidc.tokenUrl, clientId: 'junction', clientSecret: SECRET, grant: 'refresh_token', refreshToken: configured };
    const c = connector(t, sink.url, oauth2, { store, clock });
    await post(c);
    const key = keyOf(oauth2);
    const first = await store.tokens.get(key);
    assert.ok(first?.refreshToken);
    assert.notEqual(first.refreshToken, configured, 'the server rotated it, and the new one is stored');
    assert.equal((await oidc.introspect(bearerOf(sink, 0) ?? '')).scope, 'offline_access contacts.write');

    clock.advance(290_000);
    await post(c);
    const second = await store.tokens.get(key);
    assert.ok(second?.refreshToken);
    assert.notEqual(second.refreshToken, first.refreshToken);
    assert.notEqual(bearerOf(sink, 1), bearerOf(sink, 0));

    // A restart: the configured refresh token was used up long ago; the stored one works.
    clock.advance(290_000);
    const restarted = connector(t, sink.url, oauth2, { store: await file.open(clock), clock });
    await post(restarted);
    assert.deepEqual(
      oidc.tokenRequests.map((r) => [r.grantType, r.outcome]),
      [
        ['refresh_token', 'issued'],
        ['refresh_token', 'issued'],
        ['refresh_token', 'issued'],
      ],
    );
  });

  it('a refresh token the server no longer accepts: JNC_OAUTH_REFUSED invalid_grant', async (t) => {
    const oidc = await oidcServer(t);
    const sink = await startTestSink(t);
    const used = await oidc.issueRefreshToken();
    // Use it once elsewhere, so that it is rotated away.
    const basic = `Basic ${Buffer.from(`junction:${SECRET}`).toString('base64')}`;
    await fetch(oidc.tokenUrl, { method: 'POST', headers: { authorization: basic }, body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: used }) });
    const c = connector(t, sink.url, { tokenUrl: oidc.tokenUrl, clientId: 'junction', clientSecret: SECRET, grant: 'refresh_token', refreshToken: used });
    await assert.rejects(post(c), (e: Error & { code?: string; details?: Record<string, unknown> }) => {
      assert.equal(e.code, 'JNC_OAUTH_REFUSED');
      assert.equal(e.details?.error, 'invalid_grant');
      assert.ok(!e.message.includes(used));
      return true;
    });
  });
});

describe('oauth2: options', () => {
  const parse = (oauth2: Record<string, unknown>) => restConnectorOptions.safeParse({ type: 'rest', baseUrl: 'http://127.0.0.1:1', auth: { oauth2 } });
  const base = { tokenUrl: 'https://auth.example/token', clientId: 'junction', clientSecret: 's' };

  it('defaults: client_credentials, client_secret_basic, refreshBeforeMs 30000', () => {
    const parsed = parse(base);
    assert.equal(parsed.success, true);
    assert.deepEqual(
      { grant: parsed.data?.auth?.oauth2?.grant, authMethod: parsed.data?.auth?.oauth2?.authMethod, refreshBeforeMs: parsed.data?.auth?.oauth2?.refreshBeforeMs },
      { grant: 'client_credentials', authMethod: 'client_secret_basic', refreshBeforeMs: 30_000 },
    );
  });

  it('plain http only on loopback, since the token request carries the secret', () => {
    assert.equal(parse({ ...base, tokenUrl: 'http://127.0.0.1:4011/token' }).success, true);
    assert.equal(parse({ ...base, tokenUrl: 'http://localhost:4011/token' }).success, true);
    const remote = parse({ ...base, tokenUrl: 'http://auth.example/token' });
    assert.equal(remote.success, false);
    assert.match(remote.error?.issues[0]?.message ?? '', /must be https/);
  });

  it('grant refresh_token needs refreshToken; one kind of auth only', () => {
    const noToken = parse({ ...base, grant: 'refresh_token' });
    assert.equal(noToken.success, false);
    assert.deepEqual(noToken.error?.issues[0]?.path, ['auth', 'oauth2', 'refreshToken']);
    const both = restConnectorOptions.safeParse({ type: 'rest', baseUrl: 'http://127.0.0.1:1', auth: { oauth2: base, bearer: 'x' } });
    assert.match(both.error?.issues[0]?.message ?? '', /exactly one of apiKey, bearer, basic or oauth2/);
  });

  it('the secrets print as [redacted]', () => {
    const parsed = parse({ ...base, clientSecret: 'very-secret', grant: 'refresh_token', refreshToken: 'rt-secret' });
    const text = JSON.stringify(parsed.data);
    assert.ok(!text.includes('very-secret') && !text.includes('rt-secret'), text);
  });
});

describe('oauth2: through the engine', () => {
  function yaml(oidc: OidcServer, sink: Sink): string {
    return `
store: sqlite:./junction.db
worker: { pollMs: 20, leaseMs: 5000, drainMs: 1000 }
connectors:
  crm:
    type: rest
    baseUrl: ${sink.url}
    timeoutMs: 3000
    retry: { maxAttempts: 4, baseMs: 10, maxMs: 200 }
    auth:
      oauth2: { tokenUrl: ${oidc.tokenUrl}, clientId: junction, clientSecret: "\${env:CRM_SECRET}", scope: contacts.write }
flows:
  orders:
    trigger: { http: { path: /hooks/orders } }
    steps:
      - deliver: { connector: crm, request: { path: /orders } }
`;
  }

  async function setup(t: TestContext) {
    const oidc = await oidcServer(t);
    const sink = await startTestSink(t);
    const engine = await startTestEngine(t, yaml(oidc, sink), { env: { CRM_SECRET: SECRET } });
    const send = async (id: string): Promise<string> => (await engine.post('/hooks/orders', { id })).json.id as string;
    const settled = async (id: string): Promise<string | undefined> => {
      await engine.until(async () => ['done', 'dead'].includes((await engine.store.getMessage(id))?.state ?? ''));
      return (await engine.store.getMessage(id))?.state;
    };
    return { oidc, sink, engine, send, settled };
  }

  it('delivers with a bearer token kept in the store; ten messages, one token request', async (t) => {
    const { oidc, sink, engine, send, settled } = await setup(t);
    const ids = await Promise.all(Array.from({ length: 10 }, (_, i) => send(`o-${i}`)));
    for (const id of ids) assert.equal(await settled(id), 'done');
    assert.equal(oidc.tokenRequests.length, 1);
    assert.equal(new Set(sink.requests.map((r) => r.headers.authorization)).size, 1);
    assert.match(sink.requests[0]?.headers.authorization ?? '', /^Bearer \S+$/);
    // Kept in the store, under the connector's name.
    const db = new DatabaseSync(join(engine.dir, 'junction.db'), { readOnly: true });
    t.after(() => db.close());
    const rows = db.prepare('SELECT key, access_token FROM tokens').all();
    assert.equal(rows.length, 1);
    assert.match(String(rows[0]?.key), /^crm:[0-9a-f]{32}$/);
    assert.equal(`Bearer ${String(rows[0]?.access_token)}`, sink.requests[0]?.headers.authorization);
  });

  it('a 401 once: one renewal, the message is delivered on its first attempt', async (t) => {
    const { oidc, sink, engine, send, settled } = await setup(t);
    sink.plan(['401']);
    const id = await send('o-1');
    assert.equal(await settled(id), 'done');
    assert.equal(grants(oidc).length, 2);
    assert.equal((await engine.store.getMessage(id))?.attempts, 1);
  });

  it('a 401 twice: a dead letter JNC_AUTH_REFUSED at once, with no retry, and no token in it', async (t) => {
    const { oidc, sink, engine, send, settled } = await setup(t);
    sink.plan(['401', '401']);
    const id = await send('o-1');
    assert.equal(await settled(id), 'dead');
    const dead = await engine.store.deadLetters.get(id);
    assert.equal(dead?.errorCode, 'JNC_AUTH_REFUSED');
    assert.equal(dead?.attempts, 1);
    assert.equal(dead?.lastResponse?.status, 401);
    assert.equal(sink.requests.length, 2);
    assert.equal(grants(oidc).length, 2);
    const text = JSON.stringify(dead);
    for (const r of sink.requests) assert.ok(!text.includes((r.headers.authorization ?? '').slice(7)));
    assert.ok(!text.includes(SECRET));
  });

  it('a revoked client: a dead letter JNC_OAUTH_REFUSED (invalid_client) at once; nothing reaches the system', async (t) => {
    const { oidc, sink, engine, send, settled } = await setup(t);
    oidc.revokeClient('junction');
    const id = await send('o-1');
    assert.equal(await settled(id), 'dead');
    const dead = await engine.store.deadLetters.get(id);
    assert.equal(dead?.errorCode, 'JNC_OAUTH_REFUSED');
    assert.match(dead?.error ?? '', /invalid_client/);
    assert.equal(dead?.attempts, 1);
    assert.ok(!JSON.stringify(dead).includes(SECRET));
    assert.equal(sink.requests.length, 0);
  });

  it('a token endpoint down for two tries: retried with backoff, then delivered', async (t) => {
    const { oidc, sink, engine, send, settled } = await setup(t);
    oidc.failNext(2);
    const id = await send('o-1');
    assert.equal(await settled(id), 'done');
    const record = await engine.store.getMessage(id);
    assert.deepEqual(
      record?.history.map((h) => [h.outcome, h.errorCode ?? null]),
      [
        ['retry', 'JNC_OAUTH_UNAVAILABLE'],
        ['retry', 'JNC_OAUTH_UNAVAILABLE'],
        ['ack', null],
      ],
    );
    assert.equal(sink.requests.length, 1);
  });
});
