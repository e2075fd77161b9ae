/**
 * Signed webhooks: a request is admitted only when its signature matches the
 * exact bytes of its body, within the timestamp tolerance, by any one of the
 * configured secrets; every refusal is a 401 that says what was wrong and never
 * what was expected; a replayed message id is accepted once.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it, type TestContext } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { parseConfigText } from '../../src/config/load.ts';
import type { Clock } from '../../src/core/clock.ts';
import { startIngressEngine, storedCount } from '../helpers/ingress.ts';

// Secrets as the Standard Webhooks spec shows them: whsec_ and base64 of random bytes.
const SW_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const SW_NEXT = 'whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD';
const SW_WRONG = 'whsec_dGhpcyBpcyBub3QgdGhlIHNlY3JldCE=';
const GH_SECRET = "It's a Secret to Everybody";
const STRIPE_SECRET = 'whsec_test_3jJ2mXcX2mMZ0y7dTq0q5c0R';

/** The engine's time, fixed: a stale timestamp is stale by this clock, not by when the test runs. */
const NOW_MS = 1_780_000_000_000;
const NOW_SEC = NOW_MS / 1000;
const clock: Clock = { now: () => NOW_MS };

const FLOWS = `
  standard:
    trigger:
      http:
        path: /hooks/standard
        accept: [json, xml]
        auth: { signature: { scheme: standard-webhooks, secret: "\${env:SW_SECRET}" } }
    steps: [ { deliver: { connector: sink } } ]
  rotating:
    trigger:
      http:
        path: /hooks/rotating
        auth:
          signature:
            scheme: standard-webhooks
            secrets: [ "\${env:SW_SECRET}", "\${env:SW_NEXT}" ]
            toleranceMs: 60000
            consumer: shop
    steps: [ { deliver: { connector: sink } } ]
  github:
    trigger: { http: { path: /hooks/github, auth: { signature: { scheme: github, secret: "\${env:GH_SECRET}" } } } }
    steps: [ { deliver: { connector: sink } } ]
  stripe:
    trigger: { http: { path: /hooks/stripe, auth: { signature: { scheme: stripe, secret: "\${env:STRIPE_SECRET}" } } } }
    steps: [ { deliver: { connector: sink } } ]
`;

const env = { SW_SECRET, SW_NEXT, GH_SECRET, STRIPE_SECRET };

// Workers off: these tests are about who is let in and what is stored.
const start = (t: TestContext) => startIngressEngine(t, FLOWS, { clock, env });
type TestEngine = Awaited<ReturnType<typeof start>>;

/** Exact bytes: the signature is over these, so the test never lets anything re-serialise them. */
const PAYLOAD = '{"type":"order.created","data":{"id":"A-1001","total":25.5,"note":"caf\u00e9 \u2615"}}';

function standardHeaders(secret: string, id: string, payload: string, atSec = NOW_SEC): Record<string, string> {
  return {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(atSec),
    'webhook-signature': new Webhook(secret).sign(id, new Date(atSec * 1000), payload),
  };
}

function post(engine: TestEngine, url: string, headers: Record<string, string>, payload: string | Buffer) {
  return engine.app.inject({ method: 'POST', url, headers, payload });
}

function assertDenied(res: { statusCode: number; json(): unknown }, detail: RegExp, secrets: string[] = []): void {
  assert.equal(res.statusCode, 401);
  const body = res.json() as Record<string, unknown>;
  assert.equal(body.code, 'JNC_AUTH_DENIED');
  assert.match(String(body.detail), detail);
  const text = JSON.stringify(body);
  for (const s of secrets) assert.ok(!text.includes(s) && !text.includes(s.replace(/^whsec_/, '')), 'the answer must not show a secret');
}

describe('signature: Standard Webhooks', () => {
  it('admits a webhook signed by the standardwebhooks package, names the scheme as consumer and keeps the exact body', async (t) => {
    const engine = await start(t);
    const res = await post(engine, '/hooks/standard', standardHeaders(SW_SECRET, 'msg_1', PAYLOAD), PAYLOAD);
    assert.equal(res.statusCode, 202);
    const { id, duplicate } = res.json() as { id: string; duplicate: boolean };
    assert.equal(duplicate, false);
    const rec = await engine.store.getMessage(id);
    assert.deepEqual(rec?.body, JSON.parse(PAYLOAD));
    assert.equal(rec?.meta.consumer, 'standard-webhooks');
    assert.equal(rec?.meta.auth, 'signature');
  });

  it('accepts a replayed webhook-id once: 202 duplicate, the first id, one stored message', async (t) => {
    const engine = await start(t);
    const headers = standardHeaders(SW_SECRET, 'msg_replayed', PAYLOAD);
    const first = await post(engine, '/hooks/standard', headers, PAYLOAD);
    assert.equal(first.statusCode, 202);
    // A fresh timestamp (and so a new signature) is the same message to the sender: still a replay.
    const again = await post(engine, '/hooks/standard', standardHeaders(SW_SECRET, 'msg_replayed', PAYLOAD, NOW_SEC + 5), PAYLOAD);
    assert.equal(again.statusCode, 202);
    assert.deepEqual(again.json(), { id: (first.json() as { id: string }).id, duplicate: true });
    assert.equal(await storedCount(engine), 1);
    // The Idempotency-Key header is not signed: a captured request resent with a new one is still a replay.
    const disguised = await post(engine, '/hooks/standard', { ...headers, 'idempotency-key': 'fresh-key' }, PAYLOAD);
    assert.deepEqual(disguised.json(), { id: (first.json() as { id: string }).id, duplicate: true });
    assert.equal(await storedCount(engine), 1);
  });

  it('verifies a body that is not JSON over its bytes (XML)', async (t) => {
    const engine = await start(t);
    const xml = '<order id="A-1"><total>25</total></order>';
    const headers = { ...standardHeaders(SW_SECRET, 'msg_xml', xml), 'content-type': 'application/xml' };
    assert.equal((await post(engine, '/hooks/standard', headers, xml)).statusCode, 202);
    assertDenied(await post(engine, '/hooks/standard', headers, xml.replace('25', '26')), /no signature in webhook-signature matches/);
  });

  it('refuses a body with one byte changed, and stores nothing', async (t) => {
    const engine = await start(t);
    const headers = standardHeaders(SW_SECRET, 'msg_2', PAYLOAD);
    const tampered = Buffer.from(PAYLOAD, 'utf8');
    tampered[tampered.indexOf('5')] = '6'.charCodeAt(0);
    assertDenied(await post(engine, '/hooks/standard', headers, tampered), /no signature in webhook-signature matches the body/, [SW_SECRET]);
    assert.equal(await storedCount(engine), 0);
  });

  it('refuses a signature made with another secret, without showing the secret or the expected signature', async (t) => {
    const engine = await start(t);
    const res = await post(engine, '/hooks/standard', standardHeaders(SW_WRONG, 'msg_3', PAYLOAD), PAYLOAD);
    assertDenied(res, /no signature .* matches/, [SW_SECRET]);
    const expected = new Webhook(SW_SECRET).sign('msg_3', new Date(NOW_MS), PAYLOAD).slice(3);
    assert.ok(!res.body.includes(expected));
  });

  it('refuses a timestamp older or newer than the tolerance, even with a valid signature', async (t) => {
    const engine = await start(t);
    const old = await post(engine, '/hooks/standard', standardHeaders(SW_SECRET, 'msg_4', PAYLOAD, NOW_SEC - 301), PAYLOAD);
    assertDenied(old, /webhook-timestamp is 301 s old, more than the 300 s allowed/);
    const ahead = await post(engine, '/hooks/standard', standardHeaders(SW_SECRET, 'msg_5', PAYLOAD, NOW_SEC + 400), PAYLOAD);
    assertDenied(ahead, /400 s in the future/);
    // Right at the edge is still inside.
    assert.equal((await post(engine, '/hooks/standard', standardHeaders(SW_SECRET, 'msg_6', PAYLOAD, NOW_SEC - 300), PAYLOAD)).statusCode, 202);
  });

  it('enforces the configured toleranceMs, not the package\'s 300 s', async (t) => {
    const engine = await start(t);
    const res = await post(engine, '/hooks/rotating', standardHeaders(SW_SECRET, 'msg_7', PAYLOAD, NOW_SEC - 61), PAYLOAD);
    assertDenied(res, /61 s old, more than the 60 s allowed/);
  });

  it('says which header is missing or malformed', async (t) => {
    const engine = await start(t);
    const good = standardHeaders(SW_SECRET, 'msg_8', PAYLOAD);
    for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature']) {
      const headers = { ...good };
      delete headers[name];
      assertDenied(await post(engine, '/hooks/standard', headers, PAYLOAD), new RegExp(`missing the ${name} header`));
    }
    assertDenied(await post(engine, '/hooks/standard', { ...good, 'webhook-timestamp': '2026-01-01T00:00:00Z' }, PAYLOAD), /webhook-timestamp is not a Unix time in seconds/);
    assertDenied(await post(engine, '/hooks/standard', { ...good, 'webhook-signature': 'v2,abc' }, PAYLOAD), /holds no v1 signature/);
    assert.equal(await storedCount(engine), 0);
  });

  it('rotates secrets: a signature by either listed secret verifies, one by neither does not', async (t) => {
    const engine = await start(t);
    const byOld = await post(engine, '/hooks/rotating', standardHeaders(SW_SECRET, 'rot_1', PAYLOAD), PAYLOAD);
    const byNew = await post(engine, '/hooks/rotating', standardHeaders(SW_NEXT, 'rot_2', PAYLOAD), PAYLOAD);
    assert.equal(byOld.statusCode, 202);
    assert.equal(byNew.statusCode, 202);
    const rec = await engine.store.getMessage((byNew.json() as { id: string }).id);
    assert.equal(rec?.meta.consumer, 'shop');
    assertDenied(await post(engine, '/hooks/rotating', standardHeaders(SW_WRONG, 'rot_3', PAYLOAD), PAYLOAD), /no signature/);
  });

  it('admits a header carrying several signatures when any one matches (the sender rotating)', async (t) => {
    const engine = await start(t);
    const good = standardHeaders(SW_SECRET, 'multi_1', PAYLOAD);
    const other = new Webhook(SW_WRONG).sign('multi_1', new Date(NOW_MS), PAYLOAD);
    const headers = { ...good, 'webhook-signature': `${other} v1a,ignored ${good['webhook-signature']}` };
    assert.equal((await post(engine, '/hooks/standard', headers, PAYLOAD)).statusCode, 202);
  });
});

describe('signature: GitHub', () => {
  const sign = (body: string | Buffer, secret = GH_SECRET) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
  const headers = (signature: string, delivery = '72d3162e-cc78-11e3-81ab-4c9367dc0958') => ({
    'content-type': 'application/json',
    'x-github-event': 'push',
    'x-github-delivery': delivery,
    'x-hub-signature-256': signature,
  });

  it('admits a body signed per GitHub\'s docs and dedupes a redelivery on X-GitHub-Delivery', async (t) => {
    const engine = await start(t);
    const first = await post(engine, '/hooks/github', headers(sign(PAYLOAD)), PAYLOAD);
    assert.equal(first.statusCode, 202);
    const again = await post(engine, '/hooks/github', headers(sign(PAYLOAD)), PAYLOAD);
    assert.deepEqual(again.json(), { id: (first.json() as { id: string }).id, duplicate: true });
    assert.equal(await storedCount(engine), 1);
    const rec = await engine.store.getMessage((first.json() as { id: string }).id);
    assert.equal(rec?.meta.consumer, 'github');
  });

  it('refuses a tampered body, a wrong secret, a malformed or missing header', async (t) => {
    const engine = await start(t);
    assertDenied(await post(engine, '/hooks/github', headers(sign(PAYLOAD)), PAYLOAD.replace('25.5', '255')), /X-Hub-Signature-256 does not match the body/, [GH_SECRET]);
    assertDenied(await post(engine, '/hooks/github', headers(sign(PAYLOAD, 'not it')), PAYLOAD), /does not match/);
    assertDenied(await post(engine, '/hooks/github', headers(sign(PAYLOAD).replace('sha256=', 'sha1=')), PAYLOAD), /not sha256=<64 hex digits>/);
    const { 'x-hub-signature-256': _, ...unsigned } = headers('');
    assertDenied(await post(engine, '/hooks/github', unsigned, PAYLOAD), /missing the X-Hub-Signature-256 header/);
    assert.equal(await storedCount(engine), 0);
  });
});

describe('signature: Stripe', () => {
  const EVENT = '{"id":"evt_1NG8Du2eZvKYlo2CUI79vXWy","object":"event","type":"payment_intent.succeeded","data":{"object":{"amount":2000}}}';
  // Per Stripe's docs: HMAC-SHA256 of "<t>.<body>" with the endpoint secret, hex, in t=…,v1=….
  const sign = (body: string, t = NOW_SEC, secret = STRIPE_SECRET) => `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`;
  const headers = (signature: string) => ({ 'content-type': 'application/json', 'stripe-signature': signature });

  it('admits a signed event and dedupes Stripe\'s retry on the event id', async (t) => {
    const engine = await start(t);
    const first = await post(engine, '/hooks/stripe', headers(sign(EVENT)), EVENT);
    assert.equal(first.statusCode, 202);
    const retry = await post(engine, '/hooks/stripe', headers(sign(EVENT, NOW_SEC + 60)), EVENT);
    assert.deepEqual(retry.json(), { id: (first.json() as { id: string }).id, duplicate: true });
    assert.equal(await storedCount(engine), 1);
  });

  it('admits a header with several v1 signatures (Stripe rolling its secret) when any matches', async (t) => {
    const engine = await start(t);
    const stale = createHmac('sha256', 'whsec_old').update(`${NOW_SEC}.${EVENT}`).digest('hex');
    const header = `${sign(EVENT)},v1=${stale},v0=6ffbb59b2300aae63f272406069a9788598b792a944a07aba816edb039989a39`;
    assert.equal((await post(engine, '/hooks/stripe', headers(header), EVENT)).statusCode, 202);
  });

  it('refuses a tampered body, a stale timestamp, a wrong secret and a malformed header', async (t) => {
    const engine = await start(t);
    assertDenied(await post(engine, '/hooks/stripe', headers(sign(EVENT)), EVENT.replace('2000', '20000')), /no v1 signature in Stripe-Signature matches/, [STRIPE_SECRET]);
    assertDenied(await post(engine, '/hooks/stripe', headers(sign(EVENT, NOW_SEC - 301)), EVENT), /Stripe-Signature timestamp is 301 s old, more than the 300 s allowed/);
    assertDenied(await post(engine, '/hooks/stripe', headers(sign(EVENT, NOW_SEC, 'whsec_other')), EVENT), /no v1 signature/);
    assertDenied(await post(engine, '/hooks/stripe', headers('v1=abc'), EVENT), /has no t=<timestamp>/);
    assertDenied(await post(engine, '/hooks/stripe', headers(`t=${NOW_SEC}`), EVENT), /holds no v1=<64 hex digits> signature/);
    assertDenied(await post(engine, '/hooks/stripe', { 'content-type': 'application/json' }, EVENT), /missing the Stripe-Signature header/);
    assert.equal(await storedCount(engine), 0);
  });

  it('gives a signed body with no event id no dedupe key: each delivery is a new message', async (t) => {
    const engine = await start(t);
    const body = '{"object":"event"}';
    assert.equal((await post(engine, '/hooks/stripe', headers(sign(body)), body)).statusCode, 202);
    assert.equal((await post(engine, '/hooks/stripe', headers(sign(body)), body)).statusCode, 202);
    assert.equal(await storedCount(engine), 2);
  });
});

describe('signature: config', () => {
  const flow = (auth: string, extra = '') => `flows:\n  a:\n    trigger:\n      http:\n        path: /a${extra}\n        auth:\n          signature: ${auth}\n    steps:\n      - map: { x: y }\n`;
  const issues = (text: string, env: NodeJS.ProcessEnv = {}) => {
    const r = parseConfigText(text, '/tmp/junction.yaml', env);
    return r.ok ? [] : r.issues.map((i) => `${i.line}:${i.column} ${i.path}: ${i.message}`);
  };

  it('accepts each scheme with a secret or a list of secrets', () => {
    assert.deepEqual(issues(flow(`{ scheme: standard-webhooks, secret: "${SW_SECRET}" }`)), []);
    assert.deepEqual(issues(flow('{ scheme: github, secrets: [ a, b ], toleranceMs: 10000, consumer: gh.org }')), []);
    assert.deepEqual(issues(flow('{ scheme: stripe, secret: "${env:S}" }'), { S: STRIPE_SECRET }), []);
  });

  it('refuses a Standard Webhooks secret that is not whsec_ and base64, at its line, without printing it', () => {
    const found = issues(flow('{ scheme: standard-webhooks, secret: "${env:S}" }'), { S: 'whsec_not base64!' });
    assert.equal(found.length, 1);
    assert.match(found[0]!, /^7:\d+ flows\.a\.trigger\.http\.auth\.signature\.secret: a Standard Webhooks secret is whsec_ followed by base64/);
    assert.ok(!found[0]!.includes('not base64!'));
  });

  it('refuses both secret and secrets, or neither', () => {
    assert.match(issues(flow('{ scheme: github, secret: a, secrets: [ b ] }'))[0]!, /give either secret or secrets/);
    assert.match(issues(flow('{ scheme: github }'))[0]!, /give either secret or secrets/);
  });

  it('refuses an unknown scheme with the ones there are', () => {
    assert.match(issues(flow('{ scheme: slack, secret: a }'))[0]!, /expected one of standard-webhooks, github, stripe/);
  });

  it('refuses a signature on a trigger that streams records, which never holds the body whole', () => {
    const found = issues(flow('{ scheme: github, secret: a }', '\n        records: { format: csv }'));
    assert.equal(found.length, 1);
    assert.match(found[0]!, /^8:11 flows\.a\.trigger\.http\.auth\.signature: a signature covers the whole body/);
  });
});
