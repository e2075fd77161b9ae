/**
 * A secret never appears in a log line, a dead letter, an admin API answer or
 * the CLI's output (DESIGN.md "What the user writes").
 *
 * Recognisable secrets are configured everywhere the config takes one, from
 * `${env:…}` and `${file:…}`. Then traffic is driven through every path that
 * writes something: accepted messages, a receiver that answers 401, 400, 503
 * and unparsable JSON while echoing the credentials it got (in its body and in
 * `WWW-Authenticate`), dead letters, every admin route with right and wrong
 * tokens, `junction check` on a config with mistakes next to secrets, and
 * `junction dlq list|show`. Everything captured is searched for every secret.
 *
 * The test can fail: the positive controls prove that the secrets really were
 * sent and echoed, and that the search finds a marker known to be there.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { Writable } from 'node:stream';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { inboundAuthenticators } from '../../src/auth/inbound/registry.ts';
import { connectorEntry } from '../../src/config/schema.ts';
import { junction } from '../helpers/cli.ts';
import { startTestEngine, tempDir } from '../helpers/engine.ts';
import { serve } from '../helpers/servers.ts';

const ADMIN_TOKEN = 'LEAK-admin-token-6b1e0f93';
const API_KEY = 'LEAK-apikey-c4d27a58';
const BEARER = 'LEAK-bearer-from-file-91fe3d';
const PASSWORD = 'LEAK-basic-password-0a7c55';
const USERNAME = 'junction-user';
const INBOUND_KEY = 'LEAK-inbound-key-e83b21';
const HOOK_SECRET = 'LEAK-hook-secret-7d90ac';
const CLIENT_ID = 'junction-client';
const CLIENT_SECRET = 'LEAK-client-secret-2f6b';
/** Issued by the echo's token endpoint: not in the config, but a secret all the same. */
const ACCESS_TOKEN = 'LEAK-access-token-b5e1';
/** Not a secret: put in every body, so the search must find it (positive control). */
const MARKER = 'PUBLIC-MARKER-5e2f';

const BASIC = Buffer.from(`${USERNAME}:${PASSWORD}`).toString('base64');
/** RFC 6749 §2.3.1: client credentials are form-encoded before base64 (`-` becomes `%2D`). */
const formEncode = (s: string): string =>
  encodeURIComponent(s).replace(/[-_.!~*'()]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
/** The client credentials as they travel to the token endpoint, and as a naive encoder would write them. */
const CLIENT_BASIC = Buffer.from(`${formEncode(CLIENT_ID)}:${formEncode(CLIENT_SECRET)}`).toString('base64');
const CLIENT_BASIC_PLAIN = Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64');
/** Every secret, and the forms in which basic credentials travel. */
const SECRETS = [ADMIN_TOKEN, API_KEY, BEARER, PASSWORD, BASIC, INBOUND_KEY, HOOK_SECRET, CLIENT_SECRET, CLIENT_BASIC, CLIENT_BASIC_PLAIN, ACCESS_TOKEN];
const WHOLE_ONLY = [BASIC, CLIENT_BASIC, CLIENT_BASIC_PLAIN];

// Every kind of credential the config takes is configured: inbound API keys, webhook
// signatures (github: easy to sign here) and OAuth 2.0 next to the outbound ones. A
// kind that went missing fails the first control below instead of being left out.
const INBOUND_AUTH = 'auth: { apiKeys: ["${env:INBOUND_KEY}"] }, ';
const INBOUND_HEADERS: Record<string, string> = { 'x-api-key': INBOUND_KEY };

function githubSignature(body: string, secret = HOOK_SECRET): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

interface Echo {
  url: string;
  /** Every credential header the receiver got, as received. */
  credentials: string[];
  close(): Promise<void>;
}

/** A receiver that echoes the credentials it was sent, in the body and in WWW-Authenticate. */
async function startEcho(t: TestContext): Promise<Echo> {
  const credentials: string[] = [];
  const { url, close } = await serve(t, (req, res) => {
    req.resume();
    req.on('end', () => {
      const cred = String(req.headers.authorization ?? req.headers['x-api-key'] ?? '');
      credentials.push(cred);
      const challenge = `Bearer realm="echo", error="invalid_token", error_description="rejected ${cred}"`;
      const path = (req.url ?? '').split('?')[0];
      const answer = (status: number, body: string, headers: Record<string, string> = {}): void => {
        res.writeHead(status, { 'content-type': 'application/json', 'www-authenticate': challenge, 'set-cookie': `s=${cred}`, 'x-echo': cred, ...headers });
        res.end(body);
      };
      if (path?.endsWith('/token')) {
        res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
        res.end(JSON.stringify({ access_token: ACCESS_TOKEN, token_type: 'Bearer', expires_in: 3600 }));
      } else if (path?.endsWith('/ok')) answer(200, '{"ok":true}');
      else if (path?.endsWith('/unauthorized')) answer(401, JSON.stringify({ error: `bad credentials: ${cred}` }));
      else if (path?.endsWith('/bad')) answer(400, JSON.stringify({ error: `you sent ${cred}` }));
      else if (path?.endsWith('/down')) answer(503, JSON.stringify({ error: `down for ${cred}` }), { 'retry-after': '0' });
      // JSON.parse quotes the text it fails on: the parse error itself carries the echoed key.
      else answer(200, `${cred} is not JSON`);
    });
  });
  return { url, credentials, close };
}

const CONFIG = (echo: string, bearerFile: string) => `
store: sqlite:./junction.db
server: { adminToken: "\${env:ADMIN_TOKEN}" }
log: { level: trace }
worker: { pollMs: 20 }
connectors:
  keyed:
    type: rest
    baseUrl: "${echo}"
    auth: { apiKey: { header: X-Api-Key, value: "\${env:API_KEY}" } }
    retry: { maxAttempts: 2, baseMs: 1, maxMs: 5 }
  bearer:
    type: rest
    baseUrl: "${echo}"
    auth: { bearer: "\${file:${bearerFile}}" }
    retry: { maxAttempts: 2, baseMs: 1, maxMs: 5 }
  basic:
    type: rest
    baseUrl: "${echo}"
    auth: { basic: { username: ${USERNAME}, password: "\${env:BASIC_PASSWORD}" } }
    retry: { maxAttempts: 2, baseMs: 1, maxMs: 5 }
  oauth:
    type: rest
    baseUrl: "${echo}"
    auth: { oauth2: { tokenUrl: "${echo}/token", clientId: ${CLIENT_ID}, clientSecret: "\${env:CLIENT_SECRET}" } }
    retry: { maxAttempts: 2, baseMs: 1, maxMs: 5 }
flows:
  signed:
    trigger: { http: { path: /hooks/signed, auth: { signature: { scheme: github, secret: "\${env:HOOK_SECRET}" } } } }
    steps: [ { deliver: { connector: basic, request: { path: /bad } } } ]
  oauth:
    trigger: { http: { path: /hooks/oauth } }
    steps: [ { deliver: { connector: oauth, request: { path: /unauthorized } } } ]
  ok:
    trigger: { http: { ${INBOUND_AUTH}path: /hooks/ok } }
    steps: [ { deliver: { connector: bearer, request: { path: /ok } } } ]
  unauthorized:
    trigger: { http: { path: /hooks/unauthorized } }
    steps: [ { deliver: { connector: keyed, request: { path: /unauthorized } } } ]
  bad:
    trigger: { http: { ${INBOUND_AUTH}path: /hooks/bad } }
    steps: [ { deliver: { connector: basic, request: { path: /bad } } } ]
  down:
    trigger: { http: { path: /hooks/down } }
    steps: [ { deliver: { connector: bearer, request: { path: /down } } } ]
  malformed:
    trigger: { http: { path: /hooks/malformed } }
    steps: [ { call: { connector: keyed, request: { method: POST, path: /malformed } } } ]
`;

/** A config with mistakes next to secrets, and secrets where they do not belong. */
const BROKEN = `
server: { adminToken: "\${env:ADMIN_TOKEN}", port: "\${env:ADMIN_TOKEN}" }
connectors:
  keyed:
    type: rest
    baseUrl: "\${env:API_KEY}"
    timeoutMs: "\${env:PASSWORD}"
    auth: { apiKey: { header: "", value: "\${env:API_KEY}" }, extra: "\${env:PASSWORD}" }
flows:
  f:
    trigger: { http: { path: /hooks/f } }
    steps:
      - filter: "\${env:API_KEY} = ("
      - deliver: { connector: keyd }
`;

/**
 * What the search looks for: each secret whole, and every 10-character piece of
 * it (V8 quotes the first 10 characters of a text that is not JSON). Basic
 * credentials only whole: a piece of them may be the base64 of the user name.
 */
const NEEDLES = [
  ...SECRETS,
  ...SECRETS.filter((s) => !WHOLE_ONLY.includes(s)).flatMap((s) => Array.from({ length: s.length - 9 }, (_, i) => s.slice(i, i + 10))),
];

/** Where each secret (or a piece of one) was found: `[]` when none leaked. */
function leaks(texts: Iterable<[where: string, text: string]>): string[] {
  const found: string[] = [];
  for (const [where, text] of texts) {
    const hit = NEEDLES.find((s) => text.includes(s));
    if (hit !== undefined) found.push(`${where} holds ${hit}`);
  }
  return found;
}

describe('secrets never leak', () => {
  it('control: the search finds what is there', () => {
    assert.deepEqual(leaks([['a log line', `{"msg":"x ${API_KEY}"}`]]), [`a log line holds ${API_KEY}`]);
    assert.deepEqual(leaks([['a base64 header', `Basic ${BASIC}`]]), [`a base64 header holds ${BASIC}`]);
    assert.deepEqual(leaks([['a parse error', `Unexpected token, "${BEARER.slice(3, 13)}"... is not valid JSON`]]), [`a parse error holds ${BEARER.slice(3, 13)}`]);
    assert.deepEqual(leaks([['a dead letter', `{"error":"${MARKER}"}`]]), []);
  });

  it('control: inbound API keys, webhook signatures and OAuth 2.0 are all there to be tested', () => {
    assert.ok(inboundAuthenticators.has('apiKeys'), 'inbound API keys are registered');
    assert.ok(inboundAuthenticators.has('signature'), 'webhook signatures are registered');
    const oauth2 = connectorEntry.safeParse({
      type: 'rest',
      baseUrl: 'http://127.0.0.1:1',
      auth: { oauth2: { tokenUrl: 'http://127.0.0.1:1/token', clientId: 'c', clientSecret: 's' } },
    });
    assert.ok(oauth2.success, `OAuth 2.0 client credentials are accepted by the connector schema: ${oauth2.error?.message}`);
  });

  it('not in logs, dead letters, message histories, admin answers or CLI output', { timeout: 60_000 }, async (t) => {
    const dir = tempDir(t);
    const bearerFile = join(dir, 'bearer.txt');
    writeFileSync(bearerFile, `${BEARER}\n`);
    const env = { ADMIN_TOKEN, API_KEY, BASIC_PASSWORD: PASSWORD, INBOUND_KEY, PASSWORD, HOOK_SECRET, CLIENT_SECRET };
    const echo = await startEcho(t);

    const lines: string[] = [];
    const logDestination = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
        done();
      },
    });
    // logger: undefined: the engine builds its own logger, as `junction run` does, writing here.
    const engine = await startTestEngine(t, CONFIG(echo.url, bearerFile), { env, logger: undefined, logDestination });

    // Callers that send credentials of their own (and ours) along with the message.
    const callerHeaders = { ...INBOUND_HEADERS, cookie: `session=${ADMIN_TOKEN}`, 'proxy-authorization': `Basic ${BASIC}` };
    const ids: string[] = [];
    for (const flow of ['ok', 'unauthorized', 'bad', 'down', 'malformed']) {
      const needsKey = flow === 'ok' || flow === 'bad';
      const headers = needsKey ? callerHeaders : { ...callerHeaders, authorization: `Bearer ${API_KEY}` };
      const res = await engine.post(`/hooks/${flow}`, { marker: MARKER, flow }, headers);
      assert.equal(res.status, 202, JSON.stringify(res.json));
      ids.push(res.json.id as string);
    }
    // Positive controls: the inbound API key is checked (the right one got its 202 above) …
    const wrongKey = await engine.post('/hooks/ok', { marker: MARKER }, { 'x-api-key': `${INBOUND_KEY}-wrong` });
    assert.equal(wrongKey.status, 401, 'a wrong inbound API key is refused');
    assert.equal((await engine.post('/hooks/ok', { marker: MARKER })).status, 401, 'no inbound API key is refused');
    // … the webhook signature is checked …
    const body = JSON.stringify({ marker: MARKER, flow: 'signed' });
    const signed = await engine.post('/hooks/signed', body, { ...callerHeaders, 'x-hub-signature-256': githubSignature(body), 'x-github-delivery': 'd-1' });
    assert.equal(signed.status, 202, JSON.stringify(signed.json));
    ids.push(signed.json.id as string);
    const forged = await engine.post('/hooks/signed', body, { 'x-hub-signature-256': githubSignature(body, `${HOOK_SECRET}x`), 'x-github-delivery': 'd-2' });
    assert.equal(forged.status, 401, 'a signature made with another secret is refused');
    // … and OAuth 2.0 fetches a token with the client secret, then sends it.
    const oauth = await engine.post('/hooks/oauth', { marker: MARKER, flow: 'oauth' }, callerHeaders);
    assert.equal(oauth.status, 202);
    ids.push(oauth.json.id as string);
    const dead = 6;
    await engine.until(async () => {
      const s = await engine.store.stats();
      return s.done === 1 && s.dead === dead;
    }, 20_000);

    // Positive control: the credentials really went out, and came back in the answers.
    for (const s of [API_KEY, BEARER, BASIC, CLIENT_BASIC, ACCESS_TOKEN]) {
      assert.ok(echo.credentials.some((c) => c.includes(s)), `the receiver got ${s}`);
    }

    const captured: [string, string][] = [];
    const texts = (where: string, value: unknown) => captured.push([where, typeof value === 'string' ? value : JSON.stringify(value)]);

    for (const id of ids) texts(`message ${id}`, await engine.store.getMessage(id));
    const deadLetters = await engine.store.deadLetters.list({ limit: 100 });
    assert.equal(deadLetters.length, dead);
    for (const d of deadLetters) texts(`dead letter ${d.id}`, await engine.store.deadLetters.get(d.id));

    // The admin API: every route, with the right token, a wrong one, and none.
    const right = { authorization: `Bearer ${ADMIN_TOKEN}` };
    const admin = async (method: 'GET' | 'POST', url: string, headers: Record<string, string>, payload?: object) => {
      const res = await engine.app.inject({ method, url, headers, ...(payload ? { payload } : {}) });
      texts(`${method} ${url} (${res.statusCode}) body`, res.body);
      texts(`${method} ${url} (${res.statusCode}) headers`, res.headers);
      return res;
    };
    const WRONG_TOKENS: Record<string, string>[] = [
      {},
      { authorization: `Bearer ${API_KEY}` },
      { authorization: `Basic ${BASIC}` },
      { authorization: `Bearer ${ADMIN_TOKEN.slice(0, -1)}` },
    ];
    const deadId = deadLetters[0]!.id;
    const routes: [method: 'GET' | 'POST', url: string, payload?: object][] = [
      ['GET', '/admin/flows'],
      ['GET', '/admin/connectors'],
      ['GET', `/admin/messages/${ids[1]}`],
      ['GET', '/admin/dead-letters?limit=2'],
      ['GET', `/admin/dead-letters/${deadId}`],
      ['GET', '/admin/messages/unknown'],
      ['GET', `/admin/nothing-here?token=${ADMIN_TOKEN}`],
      ['GET', '/admin/dead-letters?limit=2&code=JNC_HTTP_REJECTED&since=2000-01-01T00:00:00Z'],
      ['GET', '/admin/flows/bad/series?span=10m&step=1m'],
      ['GET', '/admin/connectors/keyed/series'],
    ];
    for (const [method, url, payload] of routes) {
      assert.notEqual((await admin(method, url, right, payload)).statusCode, 401);
      for (const wrong of WRONG_TOKENS) {
        assert.equal((await admin(method, url, wrong, payload)).statusCode, 401);
      }
    }

    // The dashboard's page, which needs no token.
    for (const url of ['/ui', '/ui/app.js']) texts(`GET ${url}`, (await engine.app.inject({ url })).body);

    // The CLI on the same store, while the engine runs.
    const list = await junction(['dlq', 'list', '-c', engine.configFile], env);
    const listJson = await junction(['dlq', 'list', '--json', '-c', engine.configFile], env);
    const show = await junction(['dlq', 'show', deadId, '-c', engine.configFile], env);
    assert.equal(show.code, 0, show.stderr);
    for (const [name, r] of Object.entries({ list, listJson, show })) texts(`junction dlq ${name}`, r.stdout + r.stderr);

    const brokenFile = join(dir, 'broken.yaml');
    writeFileSync(brokenFile, BROKEN);
    const check = await junction(['check', '-c', brokenFile], env);
    assert.equal(check.code, 1);
    texts('junction check', check.stdout + check.stderr);

    // Replay and purge through the admin API, then stop: those write log lines too.
    assert.equal((await admin('POST', '/admin/dead-letters/replay', right, { flow: 'bad' })).statusCode, 200);
    await engine.until(async () => (await engine.store.deadLetters.count('bad')) === 1, 20_000);
    assert.equal((await admin('POST', '/admin/dead-letters/purge', right, { all: true })).statusCode, 200);
    await engine.stop();
    for (const [i, line] of lines.entries()) texts(`log line ${i}`, line);

    // Positive controls: what was searched holds what it should.
    const all = captured.map(([, text]) => text).join('\n');
    assert.ok(captured.filter(([w]) => w.startsWith('dead letter')).every(([, text]) => text.includes(MARKER)), 'dead letters hold their bodies');
    assert.match(all, /\[redacted\]/, 'something was redacted');
    assert.ok(lines.some((l) => l.includes('"msg":"dead letter')), 'dead letters are logged');
    assert.ok(lines.some((l) => l.includes('admin API: request refused')), 'refused admin calls are logged');
    assert.match(check.stderr, /JNC_CONFIG_INVALID/);
    assert.match(check.stderr, /connectors\.keyed\.timeoutMs/);
    assert.match(check.stderr, /flows\.f\.steps\[0\]\.filter/);
    assert.match(show.stdout, new RegExp(MARKER));

    assert.deepEqual(leaks(captured), []);
  });
});
