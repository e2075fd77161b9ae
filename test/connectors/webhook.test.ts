/**
 * The webhook connector against a real receiver on loopback that verifies
 * every delivery with the `standardwebhooks` package: signing on each attempt,
 * a stable webhook-id, rotation with several secrets, the envelope, and an
 * endpoint disabled after failing (kept in a store, enabled again).
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import type { Connector, ConnectorDeps } from '../../src/connectors/connector.ts';
import { createConnector } from '../../src/connectors/registry.ts';
import { webhookConnectorOptions } from '../../src/connectors/webhook.ts';
import { webhookRequest } from '../../src/connectors/webhook-request.ts';
import type { OutboundRequest } from '../../src/core/call.ts';
import type { Json, Message } from '../../src/core/message.ts';
import type { KeyValue } from '../../src/store/store.ts';
import { ManualClock } from '../helpers/clock.ts';
import { junctionRejection } from '../helpers/rejection.ts';
import { SECRETS, startWebhookReceiver } from '../helpers/webhook-receiver.ts';

const live = { signal: new AbortController().signal };

function webhook(t: TestContext, input: Record<string, unknown>, deps: ConnectorDeps = {}): Connector {
  const c = createConnector('partner', webhookConnectorOptions.parse({ type: 'webhook', timeoutMs: 3000, ...input }), deps);
  t.after(() => c.close());
  return c;
}

/** A delivery as the deliver step sends it: a JSON body and the message's key. */
function delivery(body: Json, key: string, headers: Record<string, string> = {}): OutboundRequest {
  return { method: 'POST', path: '', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body), idempotencyKey: key };
}

/** The store's KeyValue, in memory: what a restart keeps is what this map keeps. */
function memoryState(): KeyValue<Json> & { map: Map<string, Json> } {
  const map = new Map<string, Json>();
  return {
    map,
    get: async (k) => structuredClone(map.get(k)),
    set: async (k, v) => void map.set(k, structuredClone(v)),
    delete: async (k) => map.delete(k),
  };
}

test('a delivery is signed: the receiver verifies it, webhook-id is the idempotency key, the body is sent as is', async (t) => {
  const partner = await startWebhookReceiver(t, SECRETS.a);
  const c = webhook(t, { url: `${partner.url}/hooks/junction?tenant=7`, signing: { scheme: 'standard-webhooks', secret: SECRETS.a } });
  const res = await c.call(delivery({ orderId: 'A-1' }, 'order-A-1'), live);
  assert.equal(res.status, 200);
  assert.equal(c.classify(res), 'ok');
  const got = partner.got[0]!;
  assert.equal(got.verified, true, got.error);
  assert.equal(got.headers['webhook-id'], 'order-A-1');
  assert.equal(got.body, '{"orderId":"A-1"}');
  assert.ok(Math.abs(Number(got.headers['webhook-timestamp']) - Date.now() / 1000) < 60);
  assert.match(String(got.headers['webhook-signature']), /^v1,[A-Za-z0-9+/]+=*$/);
});

test('each attempt of one message keeps its webhook-id and gets a fresh timestamp and signature, each verified', async (t) => {
  const partner = await startWebhookReceiver(t, SECRETS.a);
  const clock = new ManualClock(Date.now() - 60_000);
  const c = webhook(t, { url: partner.url, signing: { scheme: 'standard-webhooks', secret: SECRETS.a } }, { clock });
  partner.plan([503, 503]);
  const statuses: number[] = [];
  for (let i = 0; i < 3; i++) {
    statuses.push((await c.call(delivery({ orderId: 'A-2' }, 'msg-42'), live)).status);
    clock.advance(20_000);
  }
  assert.deepEqual(statuses, [503, 503, 200]);
  assert.deepEqual(partner.got.map((g) => g.verified), [true, true, true]);
  assert.deepEqual(new Set(partner.got.map((g) => g.headers['webhook-id'])), new Set(['msg-42']));
  assert.equal(new Set(partner.got.map((g) => g.headers['webhook-timestamp'])).size, 3);
  assert.equal(new Set(partner.got.map((g) => g.headers['webhook-signature'])).size, 3);
});

test('with two secrets a receiver holding either one accepts, and one holding a third refuses', async (t) => {
  const signing = { scheme: 'standard-webhooks', secrets: [SECRETS.a, SECRETS.b] };
  for (const [secret, accepted] of [[SECRETS.a, true], [SECRETS.b, true], [SECRETS.c, false]] as const) {
    const partner = await startWebhookReceiver(t, secret);
    const c = webhook(t, { url: partner.url, signing });
    const res = await c.call(delivery({ n: 1 }, 'rotating'), live);
    assert.equal(partner.got[0]!.verified, accepted, partner.got[0]!.error);
    assert.equal(res.status, accepted ? 200 : 401);
    assert.equal(String(partner.got[0]!.headers['webhook-signature']).split(' ').length, 2, 'one v1 signature per secret');
  }
});

test('the signature covers an XML body byte for byte, and a step header cannot replace the signature headers', async (t) => {
  const partner = await startWebhookReceiver(t, SECRETS.a);
  const c = webhook(t, { url: partner.url, signing: { scheme: 'standard-webhooks', secret: SECRETS.a } });
  const xml = '<Order id="Ä-1"><Total>10</Total></Order>';
  await c.call({ method: 'POST', path: '', headers: { 'content-type': 'application/xml', 'webhook-id': 'forged', 'x-tenant': '7' }, body: xml, idempotencyKey: 'k-xml' }, live);
  const got = partner.got[0]!;
  assert.equal(got.verified, true, got.error);
  assert.equal(got.body, xml);
  assert.equal(got.headers['content-type'], 'application/xml');
  assert.equal(got.headers['webhook-id'], 'k-xml');
  assert.equal(got.headers['x-tenant'], '7');
});

test('a key that cannot travel in a header as it is becomes a stable msg_ id', async (t) => {
  const partner = await startWebhookReceiver(t, SECRETS.a);
  const c = webhook(t, { url: partner.url, signing: { scheme: 'standard-webhooks', secret: SECRETS.a } });
  await c.call(delivery({}, 'order Ä 1'), live);
  await c.call(delivery({}, 'order Ä 1'), live);
  const ids = partner.got.map((g) => g.headers['webhook-id']);
  assert.match(String(ids[0]), /^msg_[\w-]{43}$/);
  assert.equal(ids[0], ids[1]);
  assert.ok(partner.got.every((g) => g.verified));
});

test('the envelope wraps the body as {type, timestamp, data}; the type may be a template over the body, and a step type wins', async (t) => {
  const partner = await startWebhookReceiver(t, SECRETS.a);
  const c = webhook(t, { url: partner.url, signing: { scheme: 'standard-webhooks', secret: SECRETS.a }, envelope: { type: 'order.{{ status }}' } });
  const receivedAt = '2026-01-02T03:04:05.000Z';
  const msg: Message = { id: 'm1', flow: 'f', attempt: 1, idempotencyKey: 'm1', body: { status: 'created', id: 7 }, headers: {}, meta: { receivedAt } };
  const plain = await webhookRequest.compile(webhookRequest.options({ methods: ['POST'], defaultMethod: 'POST' }).parse({}), 'f[0].deliver', { baseDir: '.', connector: c.options }).render(msg);
  await c.call(delivery(msg.body, 'm1', plain.headers), live);
  const typed = await webhookRequest.compile(webhookRequest.options({ methods: ['POST'], defaultMethod: 'POST' }).parse({ type: 'order.{{ $uppercase(status) }}' }), 'f[0].deliver', { baseDir: '.', connector: c.options }).render(msg);
  await c.call(delivery(msg.body, 'm1', typed.headers), live);
  assert.ok(partner.got.every((g) => g.verified));
  assert.deepEqual(JSON.parse(partner.got[0]!.body), { type: 'order.created', timestamp: receivedAt, data: { status: 'created', id: 7 } });
  assert.equal(JSON.parse(partner.got[1]!.body).type, 'order.CREATED');
  assert.equal(partner.got[0]!.headers['content-type'], 'application/json');
  assert.ok(!Object.keys(partner.got[0]!.headers).some((h) => h.startsWith('x-junction-')), 'the internal headers are not sent');
});

test('an endpoint failing for disableAfter is disabled: the call fails at once with JNC_WEBHOOK_DISABLED until enabled', async (t) => {
  const partner = await startWebhookReceiver(t, SECRETS.a);
  // The receiver checks timestamps against its own clock (5 min either way): the test's clock stays near it.
  const clock = new ManualClock(Date.now() - 2 * 60_000);
  const state = memoryState();
  const c = webhook(t, { url: partner.url, signing: { scheme: 'standard-webhooks', secret: SECRETS.a }, disableAfter: '2m' }, { clock, state });
  partner.always(503);
  assert.equal((await c.call(delivery({}, 'k1'), live)).status, 503);
  assert.equal(c.state().endpoint?.disabled, false);
  assert.equal(c.state().endpoint?.failingSince, new Date(clock.now()).toISOString());
  clock.advance(90_000);
  assert.equal((await c.call(delivery({}, 'k1'), live)).status, 503, 'failing for less than disableAfter: still sent');
  clock.advance(30_000);
  const disabling = await junctionRejection(c.call(delivery({}, 'k1'), live));
  assert.equal(disabling.code, 'JNC_WEBHOOK_DISABLED');
  assert.equal(disabling.retryable, false);
  assert.equal(disabling.response?.status, 503, 'the answer that disabled it is kept');
  assert.match(disabling.message, /POST \/admin\/connectors\/partner\/enable/);
  const sent = partner.got.length;
  const refused = await junctionRejection(c.call(delivery({}, 'k2'), live));
  assert.equal(refused.code, 'JNC_WEBHOOK_DISABLED');
  assert.equal(partner.got.length, sent, 'a disabled endpoint is not called');
  assert.equal(c.state().endpoint?.disabled, true);

  // A restart: a new connector on the same store finds it disabled.
  const again = webhook(t, { url: partner.url, signing: { scheme: 'standard-webhooks', secret: SECRETS.a }, disableAfter: '2m' }, { clock, state });
  assert.equal((await junctionRejection(again.call(delivery({}, 'k3'), live))).code, 'JNC_WEBHOOK_DISABLED');
  assert.equal(again.state().endpoint?.disabled, true);

  partner.always(200);
  await again.enable!();
  assert.deepEqual(state.map.get('webhook:partner'), { failingSince: null, disabledAt: null, reason: null });
  assert.equal((await again.call(delivery({}, 'k3'), live)).status, 200);
  clock.advance(1000);
  // The first connector reads the store again before refusing, so the enable made elsewhere counts at once.
  assert.equal((await c.call(delivery({}, 'k4'), live)).status, 200);
});

test('a success ends the failing period: failures apart from each other never disable', async (t) => {
  const partner = await startWebhookReceiver(t, SECRETS.a);
  const clock = new ManualClock(Date.now() - 150_000);
  const c = webhook(t, { url: partner.url, signing: { scheme: 'standard-webhooks', secret: SECRETS.a }, disableAfter: '1m' }, { clock });
  for (let i = 0; i < 4; i++) {
    partner.plan([500]);
    assert.equal((await c.call(delivery({}, `k${i}`), live)).status, 500);
    clock.advance(70_000);
    assert.equal((await c.call(delivery({}, `k${i}`), live)).status, 200);
    assert.equal(c.state().endpoint?.failingSince, null);
  }
  assert.equal(c.state().endpoint?.disabled, false);
});

test('410 Gone disables the endpoint at once', async (t) => {
  const partner = await startWebhookReceiver(t, SECRETS.a);
  const c = webhook(t, { url: partner.url, signing: { scheme: 'standard-webhooks', secret: SECRETS.a } });
  partner.plan([410]);
  const err = await junctionRejection(c.call(delivery({}, 'gone'), live));
  assert.equal(err.code, 'JNC_WEBHOOK_DISABLED');
  assert.match(err.message, /410 Gone/);
  assert.equal(c.state().endpoint?.disabled, true);
});

test('a network failure counts as failing, and a connection refused for disableAfter disables', async (t) => {
  const partner = await startWebhookReceiver(t, SECRETS.a);
  await partner.close();
  const clock = new ManualClock(Date.now());
  const c = webhook(t, { url: partner.url, signing: { scheme: 'standard-webhooks', secret: SECRETS.a }, disableAfter: '1s' }, { clock });
  assert.equal((await junctionRejection(c.call(delivery({}, 'k'), live))).code, 'JNC_CONN_NETWORK');
  clock.advance(1000);
  assert.equal((await junctionRejection(c.call(delivery({}, 'k'), live))).code, 'JNC_WEBHOOK_DISABLED');
});

test('the options refuse a secret that is not whsec_ base64, and secret together with secrets, naming the path', () => {
  const bad = webhookConnectorOptions.safeParse({ type: 'webhook', url: 'http://127.0.0.1:1/h', signing: { scheme: 'standard-webhooks', secrets: [SECRETS.a, 'not base64!'] } });
  assert.equal(bad.success, false);
  assert.deepEqual(bad.error!.issues[0]!.path, ['signing', 'secrets', 1]);
  assert.match(bad.error!.issues[0]!.message, /whsec_/);
  const both = webhookConnectorOptions.safeParse({ type: 'webhook', url: 'http://127.0.0.1:1/h', signing: { scheme: 'standard-webhooks', secret: SECRETS.a, secrets: [SECRETS.b] } });
  assert.equal(both.success, false);
  const slow = webhookConnectorOptions.safeParse({ type: 'webhook', url: 'http://127.0.0.1:1/h', signing: { scheme: 'standard-webhooks', secret: SECRETS.a }, disableAfter: 'soon' });
  assert.deepEqual(slow.error!.issues[0]!.path, ['disableAfter']);
  const ok = webhookConnectorOptions.parse({ type: 'webhook', url: 'http://127.0.0.1:1/h', signing: { scheme: 'standard-webhooks', secret: SECRETS.a }, disableAfter: '3d' });
  assert.equal(ok.disableAfter, 3 * 86_400_000);
});
