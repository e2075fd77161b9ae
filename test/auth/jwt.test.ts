/**
 * @module test/auth/jwt
 * `http.auth.jwt`: only a token signed with the issuer's published keys, under
 * an accepted algorithm, for this audience, from this issuer and within its
 * lifetime gets in, named by its subject; a refusal says which check failed
 * and never echoes the token; a required claim that is missing is a 403. The
 * key set is fetched from a real server on loopback: it is cached, fetched
 * again on an unknown key id at most once per cooldown, and survives the key
 * server failing. Tokens from a real oidc-provider are checked the same way.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import type { InboundRequest } from '../../src/auth/inbound/inbound.ts';
import { jwt, jwtOptions } from '../../src/auth/inbound/jwt.ts';
import { parseConfigText } from '../../src/config/load.ts';
import { systemClock, type Clock } from '../../src/core/clock.ts';
import { isJunctionError, type JunctionError } from '../../src/core/errors.ts';
import { silentLogger } from '../../src/observability/logger.ts';
import { ManualClock } from '../helpers/clock.ts';
import { startTestEngine } from '../helpers/engine.ts';
import { ingressConfig, postJson, startIngressEngine, storedCount } from '../helpers/ingress.ts';
import { startOidc } from '../helpers/oidc.ts';

const ISSUER = 'https://id.test';
const AUDIENCE = 'https://api.test/orders';
const NOW_MS = 1_780_000_000_000;
const NOW_SEC = NOW_MS / 1000;

// ---- a JWKS server on loopback, and keys to sign with ----

interface SigningKey {
  kid: string;
  alg: string;
  privateKey: CryptoKey;
  jwk: JWK;
}

async function signingKey(alg = 'RS256', kid: string = randomUUID()): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

type Failure = 'status' | 'garbage' | 'reset' | 'hang';

interface KeyServer {
  readonly url: string;
  /** Key set requests answered (or failed) so far. */
  readonly requests: number;
  publish(keys: SigningKey[]): void;
  /** From now on every request fails this way; undefined: answer again. */
  fail(how: Failure | undefined): void;
}

async function startKeyServer(t: TestContext, keys: SigningKey[]): Promise<KeyServer> {
  let published = keys;
  let failure: Failure | undefined;
  let requests = 0;
  const hung = new Set<ServerResponse>();
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    requests += 1;
    if (failure === 'status') return void res.writeHead(502).end('bad gateway');
    if (failure === 'garbage') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"keys": "none"}');
    if (failure === 'reset') return void req.socket.destroy();
    if (failure === 'hang') return void hung.add(res);
    res.writeHead(200, { 'content-type': 'application/jwk-set+json' }).end(JSON.stringify({ keys: published.map((k) => k.jwk) }));
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`,
    get requests() {
      return requests;
    },
    publish(next) {
      published = next;
    },
    fail(how) {
      failure = how;
    },
  };
}

/** A token for AUDIENCE from ISSUER, good for five minutes from NOW_SEC unless the claims say otherwise. */
function sign(key: SigningKey, claims: JWTPayload = {}, header: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT({ iss: ISSUER, aud: AUDIENCE, sub: 'partner-1', iat: NOW_SEC, exp: NOW_SEC + 300, ...claims })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt', ...header })
    .sign(key.privateKey);
}

const b64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

// ---- the authenticator on its own ----

async function authenticator(options: Record<string, unknown>, clock: Clock = new ManualClock(NOW_MS)) {
  return jwt.create(jwtOptions.parse({ issuer: ISSUER, audience: AUDIENCE, ...options }), { clock, logger: silentLogger });
}

function request(token: string | undefined): InboundRequest {
  return { method: 'POST', url: '/hooks/orders', headers: token === undefined ? {} : { authorization: `Bearer ${token}` }, rawBody: undefined, ip: '127.0.0.1' };
}

type Authenticate = Awaited<ReturnType<typeof authenticator>>;

/** The refusal of `token`, checked for status, code and detail, and for not repeating the token or a part of it. */
async function refused(auth: Authenticate, token: string, status: number, detail: RegExp): Promise<JunctionError> {
  let caught: unknown;
  try {
    await auth(request(token));
  } catch (e) {
    caught = e;
  }
  assert.ok(isJunctionError(caught), `expected a refusal, got ${String(caught)}`);
  assert.equal(caught.status, status);
  assert.equal(caught.code, status === 401 ? 'JNC_AUTH_DENIED' : status === 403 ? 'JNC_AUTH_FORBIDDEN' : 'JNC_AUTH_KEYS_UNAVAILABLE');
  assert.match(caught.message, detail);
  const said = caught.message + JSON.stringify(caught.headers ?? {});
  for (const part of token.split('.').filter((p) => p.length > 8)) assert.ok(!said.includes(part), 'the refusal repeats the token');
  return caught;
}

describe('JWT: what gets in', () => {
  it('admits a good token and names the caller by its sub', async (t) => {
    const key = await signingKey();
    const keys = await startKeyServer(t, [key]);
    const auth = await authenticator({ jwksUrl: keys.url });
    assert.deepEqual(await auth(request(await sign(key))), { consumer: 'partner-1', via: 'jwt' });
  });

  it('names a token with no sub by its client_id, else its azp, and refuses one that names no one', async (t) => {
    const key = await signingKey();
    const keys = await startKeyServer(t, [key]);
    const auth = await authenticator({ jwksUrl: keys.url });
    assert.equal((await auth(request(await sign(key, { sub: undefined, client_id: 'svc-a', azp: 'svc-b' })))).consumer, 'svc-a');
    assert.equal((await auth(request(await sign(key, { sub: undefined, azp: 'svc-b' })))).consumer, 'svc-b');
    await refused(auth, await sign(key, { sub: undefined }), 401, /names no caller/);
    await refused(auth, await sign(key, { sub: 'x'.repeat(256) }), 401, /names no caller/);
  });

  it('refuses a tampered payload or signature: 401 "signature is not valid"', async (t) => {
    const key = await signingKey();
    const keys = await startKeyServer(t, [key]);
    const auth = await authenticator({ jwksUrl: keys.url });
    const [header, , sig] = (await sign(key)).split('.');
    const forged = `${header}.${b64url({ iss: ISSUER, aud: AUDIENCE, sub: 'admin', iat: NOW_SEC, exp: NOW_SEC + 300 })}.${sig}`;
    await refused(auth, forged, 401, /the token's signature is not valid/);
    const good = await sign(key);
    const flipped = good.slice(0, -4) + (good.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    await refused(auth, flipped, 401, /the token's signature is not valid/);
  });

  it('refuses a token past its exp beyond the skew as expired, and admits one within it', async (t) => {
    const key = await signingKey();
    const keys = await startKeyServer(t, [key]);
    const auth = await authenticator({ jwksUrl: keys.url, clockSkewMs: 30_000 });
    await refused(auth, await sign(key, { iat: NOW_SEC - 600, exp: NOW_SEC - 31 }), 401, /the token has expired/);
    assert.equal((await auth(request(await sign(key, { iat: NOW_SEC - 600, exp: NOW_SEC - 20 })))).via, 'jwt');
  });

  it('refuses a token whose nbf is ahead beyond the skew, and admits one within it', async (t) => {
    const key = await signingKey();
    const keys = await startKeyServer(t, [key]);
    const auth = await authenticator({ jwksUrl: keys.url, clockSkewMs: 30_000 });
    await refused(auth, await sign(key, { nbf: NOW_SEC + 31 }), 401, /the token is not valid yet/);
    assert.equal((await auth(request(await sign(key, { nbf: NOW_SEC + 20 })))).via, 'jwt');
  });

  it('refuses a token with no exp: it would never expire', async (t) => {
    const key = await signingKey();
    const keys = await startKeyServer(t, [key]);
    const auth = await authenticator({ jwksUrl: keys.url });
    await refused(auth, await sign(key, { exp: undefined }), 401, /the token has no expiry \(exp\)/);
  });

  it('refuses a token for another audience or from another issuer; admits any one of several audiences', async (t) => {
    const key = await signingKey();
    const keys = await startKeyServer(t, [key]);
    const auth = await authenticator({ jwksUrl: keys.url });
    await refused(auth, await sign(key, { aud: 'https://api.test/billing' }), 401, /the token's audience is not accepted here/);
    await refused(auth, await sign(key, { iss: 'https://evil.test' }), 401, /the token's issuer is not accepted here/);
    await refused(auth, await sign(key, { iss: `${ISSUER}/` }), 401, /issuer is not accepted/);
    assert.equal((await auth(request(await sign(key, { aud: ['https://api.test/billing', AUDIENCE] })))).via, 'jwt');
    const either = await authenticator({ jwksUrl: keys.url, audience: ['https://api.test/billing', AUDIENCE] });
    assert.equal((await either(request(await sign(key, { aud: 'https://api.test/billing' })))).via, 'jwt');
  });

  it('refuses an unsigned token (alg none) without fetching any key', async (t) => {
    const key = await signingKey();
    const keys = await startKeyServer(t, [key]);
    const auth = await authenticator({ jwksUrl: keys.url });
    const unsigned = `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ iss: ISSUER, aud: AUDIENCE, sub: 'admin', exp: NOW_SEC + 300 })}.`;
    await refused(auth, unsigned, 401, /the token's algorithm \(none\) is not accepted here; accepted: RS256, ES256, EdDSA/);
    assert.equal(keys.requests, 0);
  });

  it('refuses an HS256 token, whether signed with some secret or with the public key as its secret', async (t) => {
    const key = await signingKey();
    const keys = await startKeyServer(t, [key]);
    const auth = await authenticator({ jwksUrl: keys.url });
    const claims = { iss: ISSUER, aud: AUDIENCE, sub: 'admin', exp: NOW_SEC + 300 };
    for (const secret of ['a-shared-secret-of-thirty-two-by', JSON.stringify(key.jwk)]) {
      const hs = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: key.kid }).sign(new TextEncoder().encode(secret));
      await refused(auth, hs, 401, /the token's algorithm \(HS256\) is not accepted here/);
    }
    assert.equal(keys.requests, 0);
  });

  it('admits ES256 and EdDSA by default, and only the algorithms listed when given', async (t) => {
    const rs = await signingKey('RS256');
    const es = await signingKey('ES256');
    const ed = await signingKey('EdDSA');
    const ps = await signingKey('PS256');
    const keys = await startKeyServer(t, [rs, es, ed, ps]);
    const auth = await authenticator({ jwksUrl: keys.url });
    for (const k of [rs, es, ed]) assert.equal((await auth(request(await sign(k)))).via, 'jwt', k.alg);
    await refused(auth, await sign(ps), 401, /algorithm \(PS256\) is not accepted/);
    const esOnly = await authenticator({ jwksUrl: keys.url, algorithms: ['ES256'] });
    await refused(esOnly, await sign(rs), 401, /algorithm \(RS256\) is not accepted here; accepted: ES256$/);
  });

  it('refuses what is not a JWT as malformed, and a missing token with a bare Bearer challenge', async (t) => {
    const key = await signingKey();
    const keys = await startKeyServer(t, [key]);
    const auth = await authenticator({ jwksUrl: keys.url });
    for (const token of ['ka_7Hq2VxLp9RtY4mWz', 'a.b.c', `not-json.${b64url({ sub: 'x' })}.sig`, `${b64url({ alg: 'RS256' })}.${b64url({ sub: 'x' })}`]) {
      const e = await refused(auth, token, 401, /the token is not a well-formed JWT/);
      assert.match(e.headers?.['www-authenticate'] ?? '', /^Bearer error="invalid_token", error_description="/);
    }
    const none = await auth(request(undefined)).catch((e: JunctionError) => e);
    assert.ok(isJunctionError(none));
    assert.equal(none.status, 401);
    assert.match(none.message, /send a JWT access token as Authorization: Bearer <token>/);
    assert.equal(none.headers?.['www-authenticate'], 'Bearer');
    assert.equal(keys.requests, 0);
  });

  it('refuses a good token that lacks a required claim or holds the wrong value: 403 insufficient_scope', async (t) => {
    const key = await signingKey();
    const keys = await startKeyServer(t, [key]);
    const auth = await authenticator({ jwksUrl: keys.url, requiredClaims: { scope: 'orders.write', tenant: 'acme', roles: 'ingest', email_verified: true } });
    const good = { scope: 'orders.read orders.write', tenant: 'acme', roles: ['ingest', 'read'], email_verified: true };
    assert.equal((await auth(request(await sign(key, good)))).consumer, 'partner-1');
    const e = await refused(auth, await sign(key, { ...good, scope: 'orders.read' }), 403, /the token's "scope" claim does not include "orders.write"/);
    assert.equal(e.headers?.['www-authenticate'], 'Bearer error="insufficient_scope"');
    await refused(auth, await sign(key, { ...good, tenant: undefined }), 403, /the token has no "tenant" claim, which this trigger requires/);
    await refused(auth, await sign(key, { ...good, tenant: 'other' }), 403, /the token's "tenant" claim does not equal "acme"/);
    await refused(auth, await sign(key, { ...good, roles: ['read'] }), 403, /"roles" claim does not include "ingest"/);
    await refused(auth, await sign(key, { ...good, email_verified: false }), 403, /no "email_verified" claim/);
  });
});

describe('JWT: the key set', () => {
  it('fetches the key set once for many requests at once, and keeps it', async (t) => {
    const key = await signingKey();
    const keys = await startKeyServer(t, [key]);
    const auth = await authenticator({ jwksUrl: keys.url });
    const token = await sign(key);
    await Promise.all(Array.from({ length: 20 }, () => auth(request(token))));
    await auth(request(token));
    assert.equal(keys.requests, 1);
  });

  it('picks up a rotated key with one fetch, and a flood of unknown key ids costs one fetch per cooldown', async (t) => {
    t.mock.timers.enable({ apis: ['Date'], now: NOW_MS });
    const old = await signingKey();
    const next = await signingKey();
    const keys = await startKeyServer(t, [old]);
    const auth = await authenticator({ jwksUrl: keys.url, cooldownMs: 30_000 }, systemClock);
    assert.equal((await auth(request(await sign(old)))).via, 'jwt');
    assert.equal(keys.requests, 1);

    // The issuer publishes the new key beside the old one, and signs with it once we could have seen it.
    keys.publish([old, next]);
    t.mock.timers.tick(30_001);
    assert.equal((await auth(request(await sign(next, { iat: NOW_SEC + 31, exp: NOW_SEC + 331 })))).via, 'jwt');
    assert.equal(keys.requests, 2);
    assert.equal((await auth(request(await sign(old, { iat: NOW_SEC + 31, exp: NOW_SEC + 331 })))).via, 'jwt');

    // Made-up key ids, signed with a key the issuer never published: within the cooldown, no fetch at all.
    const stranger = await signingKey();
    const claims = { iat: NOW_SEC + 31, exp: NOW_SEC + 331 };
    for (let i = 0; i < 50; i++) {
      await refused(auth, await sign({ ...stranger, kid: randomUUID() }, claims), 401, /no key of the issuer matches the token's key id/);
    }
    assert.equal(keys.requests, 2);
    // Past it, the next flood costs one fetch, however many come at once.
    t.mock.timers.tick(30_001);
    const flood = await Promise.all(Array.from({ length: 50 }, () => sign({ ...stranger, kid: randomUUID() }, { iat: NOW_SEC + 62, exp: NOW_SEC + 362 })));
    const outcomes = await Promise.allSettled(flood.map((token) => auth(request(token))));
    assert.ok(outcomes.every((o) => o.status === 'rejected' && (o.reason as JunctionError).status === 401));
    assert.equal(keys.requests, 3);
  });

  it('answers 503 with Retry-After while the key server fails, asks it again only after the cooldown, then admits', async (t) => {
    t.mock.timers.enable({ apis: ['Date'], now: NOW_MS });
    const key = await signingKey();
    const keys = await startKeyServer(t, [key]);
    const auth = await authenticator({ jwksUrl: keys.url, cooldownMs: 10_000 }, systemClock);
    const token = await sign(key);
    for (const how of ['status', 'garbage', 'reset'] as const) {
      keys.fail(how);
      const before = keys.requests;
      const e = await refused(auth, token, 503, /Cannot check the token now: the signing keys cannot be fetched/);
      assert.equal(e.retryAfterMs, 10_000);
      assert.equal(keys.requests, before + 1);
      // Within the cooldown the key server is left alone.
      t.mock.timers.tick(4000);
      const again = await refused(auth, token, 503, /the last fetch failed/);
      assert.equal(again.retryAfterMs, 6000);
      assert.equal(keys.requests, before + 1);
      t.mock.timers.tick(6001);
    }
    keys.fail(undefined);
    assert.equal((await auth(request(token))).via, 'jwt');
  });

  it('keeps verifying with the last key set while the key server is down, and 503s only a key it lacks', async (t) => {
    t.mock.timers.enable({ apis: ['Date'], now: NOW_MS });
    const key = await signingKey();
    const keys = await startKeyServer(t, [key]);
    const auth = await authenticator({ jwksUrl: keys.url, cacheMaxAgeMs: 60_000, cooldownMs: 10_000 }, systemClock);
    assert.equal((await auth(request(await sign(key)))).via, 'jwt');
    keys.fail('status');
    t.mock.timers.tick(60_001);
    // The set is stale and its refetch fails: the keys it holds still verify.
    assert.equal((await auth(request(await sign(key)))).via, 'jwt');
    assert.equal(keys.requests, 2);
    const rotated = await signingKey();
    await refused(auth, await sign(rotated), 503, /cannot be fetched/);
    // A token the old set can judge is still judged: a bad signature is the caller's fault.
    const good = await sign(key);
    await refused(auth, good.slice(0, -4) + (good.endsWith('AAAA') ? 'BBBB' : 'AAAA'), 401, /signature is not valid/);
  });

  it('gives up on a key server that does not answer within timeoutMs', async (t) => {
    const key = await signingKey();
    const keys = await startKeyServer(t, [key]);
    keys.fail('hang');
    const auth = await authenticator({ jwksUrl: keys.url, timeoutMs: 100 }, systemClock);
    const started = Date.now();
    await refused(auth, await sign(key, { iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 300 }), 503, /no answer within 100ms/);
    assert.ok(Date.now() - started < 2000);
  });
});

describe('JWT: config', () => {
  it('refuses none and HMAC algorithms, plain http off loopback, and a missing audience, at their lines', () => {
    const parsed = parseConfigText(
      `flows:
  a:
    trigger:
      http:
        path: /a
        auth:
          jwt:
            jwksUrl: http://id.example.com/jwks
            issuer: https://id.example.com
            algorithms: [RS256, none, HS256]
    steps: [ { filter: "true" } ]
`,
      '/nonexistent/junction.yaml',
    );
    assert.ok(!parsed.ok);
    const found = parsed.issues.map((i) => `${i.line} ${i.path}: ${i.message}`).join('\n');
    assert.match(found, /^7 flows\.a\.trigger\.http\.auth\.jwt\.audience: /m);
    assert.match(found, /^8 flows\.a\.trigger\.http\.auth\.jwt\.jwksUrl: must be https/m);
    assert.match(found, /^10 flows\.a\.trigger\.http\.auth\.jwt\.algorithms\[1\]: expected one of RS256.*none and HMAC algorithms \(HS256…\) are not accepted/m);
    assert.match(found, /^10 flows\.a\.trigger\.http\.auth\.jwt\.algorithms\[2\]: expected one of/m);
  });

  it('fills in the defaults', () => {
    const o = jwtOptions.parse({ jwksUrl: 'https://id.example.com/jwks', issuer: ISSUER, audience: AUDIENCE });
    assert.deepEqual(o.algorithms, ['RS256', 'ES256', 'EdDSA']);
    assert.equal(o.clockSkewMs, 30_000);
    assert.equal(o.cacheMaxAgeMs, 600_000);
    assert.equal(o.cooldownMs, 30_000);
    assert.equal(o.timeoutMs, 5000);
  });
});

// ---- through the whole engine ----

function engineConfig(jwksUrl: string, extra = ''): string {
  return ingressConfig(`
  orders:
    trigger:
      http:
        path: /hooks/orders
        auth:
          jwt: { jwksUrl: "${jwksUrl}", issuer: "${ISSUER}", audience: "${AUDIENCE}" }
    steps: [ { deliver: { connector: sink } } ]
  scoped:
    trigger:
      http:
        path: /hooks/scoped
        auth:
          jwt:
            jwksUrl: "${jwksUrl}"
            issuer: "${ISSUER}"
            audience: "${AUDIENCE}"
            requiredClaims: { scope: orders.write }
    steps: [ { deliver: { connector: sink } } ]
  either:
    trigger:
      http:
        path: /hooks/either
        auth:
          apiKeys: [ { key: "\${env:KEY}", consumer: legacy } ]
          jwt: { jwksUrl: "${jwksUrl}", issuer: "${ISSUER}", audience: "${AUDIENCE}" }
    steps: [ { deliver: { connector: sink } } ]
${extra}`);
}

const API_KEY = 'ka_7Hq2VxLp9RtY4mWz';

const post = postJson;

describe('JWT: through the HTTP trigger', () => {
  it('admits a good token: 202, its sub in meta.consumer, the token kept nowhere', async (t) => {
    const key = await signingKey();
    const keys = await startKeyServer(t, [key]);
    const engine = await startTestEngine(t, engineConfig(keys.url), { workers: false, env: { KEY: API_KEY }, clock: new ManualClock(NOW_MS) });
    const token = await sign(key);
    const res = await post(engine, '/hooks/orders', { authorization: `Bearer ${token}` });
    assert.equal(res.statusCode, 202);
    const rec = await engine.store.getMessage((res.json() as { id: string }).id);
    assert.equal(rec?.meta.consumer, 'partner-1');
    assert.equal(rec?.meta.auth, 'jwt');
    assert.equal(rec?.headers.authorization, undefined);
    assert.ok(!JSON.stringify(rec).includes(token.split('.')[2]!));
  });

  it('refuses a missing or expired token with a problem and a Bearer challenge, storing nothing', async (t) => {
    const key = await signingKey();
    const keys = await startKeyServer(t, [key]);
    const engine = await startTestEngine(t, engineConfig(keys.url), { workers: false, env: { KEY: API_KEY }, clock: new ManualClock(NOW_MS) });
    const missing = await post(engine, '/hooks/orders');
    assert.equal(missing.statusCode, 401);
    assert.match(String(missing.headers['content-type']), /^application\/problem\+json/);
    assert.equal(missing.headers['www-authenticate'], 'Bearer');
    assert.equal((missing.json() as { code: string }).code, 'JNC_AUTH_DENIED');
    const expired = await post(engine, '/hooks/orders', { authorization: `Bearer ${await sign(key, { exp: NOW_SEC - 60 })}` });
    assert.equal(expired.statusCode, 401);
    assert.match((expired.json() as { detail: string }).detail, /the token has expired/);
    assert.equal(expired.headers['www-authenticate'], 'Bearer error="invalid_token", error_description="the token has expired"');
    assert.equal(await storedCount(engine), 0);
  });

  it('answers 403 for a good token without the required scope, and 202 with it', async (t) => {
    const key = await signingKey();
    const keys = await startKeyServer(t, [key]);
    const engine = await startTestEngine(t, engineConfig(keys.url), { workers: false, env: { KEY: API_KEY }, clock: new ManualClock(NOW_MS) });
    const without = await post(engine, '/hooks/scoped', { authorization: `Bearer ${await sign(key, { scope: 'orders.read' })}` });
    assert.equal(without.statusCode, 403);
    assert.equal((without.json() as { code: string }).code, 'JNC_AUTH_FORBIDDEN');
    assert.equal(await storedCount(engine), 0);
    const withScope = await post(engine, '/hooks/scoped', { authorization: `Bearer ${await sign(key, { scope: 'orders.read orders.write' })}` });
    assert.equal(withScope.statusCode, 202);
  });

  it('admits an API key or a JWT on a trigger that takes both', async (t) => {
    const key = await signingKey();
    const keys = await startKeyServer(t, [key]);
    const engine = await startTestEngine(t, engineConfig(keys.url), { workers: false, env: { KEY: API_KEY }, clock: new ManualClock(NOW_MS) });
    const byKey = await post(engine, '/hooks/either', { authorization: `Bearer ${API_KEY}` });
    const byToken = await post(engine, '/hooks/either', { authorization: `Bearer ${await sign(key)}` });
    assert.deepEqual([byKey.statusCode, byToken.statusCode], [202, 202]);
    const consumers = await Promise.all([byKey, byToken].map(async (r) => (await engine.store.getMessage((r.json() as { id: string }).id))?.meta.consumer));
    assert.deepEqual(consumers, ['legacy', 'partner-1']);
    const neither = await post(engine, '/hooks/either', { authorization: 'Bearer nope' });
    assert.equal(neither.statusCode, 401);
    const problem = neither.json() as { detail: string };
    assert.match(problem.detail, /^Not authorised: [^]*; /, 'one reason per kind of credential');
    assert.doesNotMatch(problem.detail, /Not authorised: Not authorised/);
    assert.match(String(neither.headers['www-authenticate']), /^Bearer/, "the JWT kind's challenge is kept");
  });
});

describe('JWT: tokens from a real authorization server (oidc-provider)', () => {
  it('admits a token it issues for this API, naming its client; refuses one it issued for another API', async (t) => {
    const oidc = await startOidc();
    t.after(() => oidc.close());
    const audience = 'https://api.test/orders';
    const engine = await startIngressEngine(
      t,
      `
  orders:
    trigger:
      http:
        path: /hooks/orders
        auth:
          jwt: { jwksUrl: "${oidc.jwksUrl}", issuer: "${oidc.issuer}", audience: "${audience}", requiredClaims: { scope: orders.write } }
    steps: [ { deliver: { connector: sink } } ]
`,
    );
    const token = await oidc.issueAccessToken({ audience, scope: 'orders.write' });
    const ok = await post(engine, '/hooks/orders', { authorization: `Bearer ${token}` });
    assert.equal(ok.statusCode, 202, ok.payload);
    const rec = await engine.store.getMessage((ok.json() as { id: string }).id);
    assert.equal(rec?.meta.consumer, oidc.client.clientId);

    const other = await oidc.issueAccessToken({ audience: 'https://api.test/billing', scope: 'orders.write' });
    const refusedOther = await post(engine, '/hooks/orders', { authorization: `Bearer ${other}` });
    assert.equal(refusedOther.statusCode, 401);
    assert.match((refusedOther.json() as { detail: string }).detail, /the token's audience is not accepted here/);

    const readOnly = await oidc.issueAccessToken({ audience, scope: 'orders.read' });
    assert.equal((await post(engine, '/hooks/orders', { authorization: `Bearer ${readOnly}` })).statusCode, 403);
  });
});
