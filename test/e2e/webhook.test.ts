/**
 * Flows that deliver to a `webhook` connector through a whole engine (HTTP
 * trigger → queue → worker → signed POST), checked by a partner's endpoint on
 * loopback that verifies every delivery with the `standardwebhooks` package:
 * retries and replays keep the webhook-id with a fresh timestamp and
 * signature, two secrets during a rotation, the envelope, and an endpoint
 * disabled after failing, kept disabled across a restart and enabled again
 * through the admin API.
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { loadConfig } from '../../src/config/load.ts';
import { startEngine, type Engine } from '../../src/engine/engine.ts';
import { silentLogger } from '../../src/observability/logger.ts';
import { startTestEngine, until, type TestEngine } from '../helpers/engine.ts';
import { SECRETS, startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.ts';

const TOKEN = 'adm-webhook-e2e-token';
const ENV = { ADMIN_TOKEN: TOKEN, SECRET_OLD: SECRETS.a, SECRET_NEW: SECRETS.b };
const auth = { authorization: `Bearer ${TOKEN}` };

interface PartnerOptions {
  /** The connector's own keys beyond type, url and signing, as YAML flow-map entries. */
  extra?: string;
  signing?: string;
}

const partnerConnector = (name: string, receiver: WebhookReceiver, o: PartnerOptions = {}) => `
  ${name}:
    type: webhook
    url: "${receiver.url}/hooks/junction?tenant=7"
    signing: ${o.signing ?? '{ scheme: standard-webhooks, secret: "${env:SECRET_OLD}" }'}
    retry: { maxAttempts: 5, baseMs: 10, maxMs: 2000 }${o.extra === undefined ? '' : `\n    ${o.extra}`}`;

const orderFlow = (name: string, connector: string) => `
  ${name}:
    trigger: { http: { path: /${name} } }
    steps:
      - deliver: { connector: ${connector}, idempotencyKey: "order-{{ id }}" }`;

const config = (connectors: string, flows: string) => `
store: sqlite:./junction.db
server: { adminToken: "\${env:ADMIN_TOKEN}" }
worker: { pollMs: 20, leaseMs: 5000, drainMs: 1000 }
connectors:${connectors}
flows:${flows}
`;

async function engineFor(t: TestContext, yaml: string): Promise<TestEngine & { send(flow: string, body: unknown): Promise<string>; reaches(id: string, state: string): Promise<void> }> {
  const engine = await startTestEngine(t, yaml, { env: ENV });
  return {
    ...engine,
    async send(flow, body) {
      const res = await engine.post(`/${flow}`, body);
      assert.equal(res.status, 202);
      return res.json.id as string;
    },
    reaches: (id, state) => engine.until(async () => (await engine.store.getMessage(id))?.state === state, 15_000),
  };
}

async function adminConnector(engine: Engine, name: string): Promise<Record<string, unknown>> {
  const res = await engine.app.inject({ url: '/admin/connectors', headers: auth });
  assert.equal(res.statusCode, 200);
  const found = (res.json() as { connectors: Record<string, unknown>[] }).connectors.find((c) => c.name === name);
  assert.ok(found, `connector ${name} listed`);
  return found;
}

const endpointOf = async (engine: Engine, name: string) => ((await adminConnector(engine, name)).state as { endpoint?: Record<string, unknown> }).endpoint;

describe('webhook connector in a flow', () => {
  it('retries a delivery the partner answers 503 twice: one webhook-id, a fresh timestamp and signature per attempt, each verified', { timeout: 30_000 }, async (t) => {
    const partner = await startWebhookReceiver(t, SECRETS.a);
    const engine = await engineFor(t, config(partnerConnector('partner', partner), orderFlow('orders', 'partner')));
    // Retry-After: 1 puts each attempt at least a second after the one before, so their timestamps (seconds) differ.
    partner.plan([503, 503], { retryAfterSec: 1 });
    const id = await engine.send('orders', { id: 'A-1', total: 12.5 });
    await engine.reaches(id, 'done');

    assert.deepEqual(partner.got.map((g) => g.status), [503, 503, 200]);
    assert.deepEqual(partner.got.map((g) => g.verified), [true, true, true]);
    assert.deepEqual(partner.got.map((g) => g.headers['webhook-id']), ['order-A-1', 'order-A-1', 'order-A-1']);
    const stamps = partner.got.map((g) => Number(g.headers['webhook-timestamp']));
    assert.ok(stamps[0]! < stamps[1]! && stamps[1]! < stamps[2]!, `timestamps ${stamps.join(', ')}`);
    assert.equal(new Set(partner.got.map((g) => g.headers['webhook-signature'])).size, 3);
    assert.deepEqual(partner.got.map((g) => g.body), Array(3).fill('{"id":"A-1","total":12.5}'));
    const rec = await engine.store.getMessage(id);
    assert.deepEqual(rec?.history.map((h) => h.errorCode ?? 'ok'), ['JNC_HTTP_RETRYABLE', 'JNC_HTTP_RETRYABLE', 'ok']);
  });

  it('a replayed dead letter keeps its webhook-id, and verifies again', { timeout: 30_000 }, async (t) => {
    const partner = await startWebhookReceiver(t, SECRETS.a);
    const engine = await engineFor(t, config(partnerConnector('partner', partner), orderFlow('orders', 'partner')));
    partner.plan([422]);
    const id = await engine.send('orders', { id: 'R-1' });
    await engine.reaches(id, 'dead');
    assert.equal((await engine.store.deadLetters.get(id))?.lastResponse?.status, 422);

    const res = await engine.app.inject({ method: 'POST', url: '/admin/dead-letters/replay', headers: auth, payload: { ids: [id] } });
    assert.deepEqual(res.json(), { replayed: [id], notFound: [] });
    await engine.reaches(id, 'done');
    assert.deepEqual(partner.got.map((g) => [g.status, g.verified, g.headers['webhook-id']]), [
      [422, true, 'order-R-1'],
      [200, true, 'order-R-1'],
    ]);
  });

  it('signs with both secrets during a rotation: a partner holding either accepts, one holding a third refuses', { timeout: 30_000 }, async (t) => {
    const rotation = '{ scheme: standard-webhooks, secrets: ["${env:SECRET_OLD}", "${env:SECRET_NEW}"] }';
    const partners = { old: await startWebhookReceiver(t, SECRETS.a), new: await startWebhookReceiver(t, SECRETS.b), other: await startWebhookReceiver(t, SECRETS.c) };
    const names = Object.keys(partners) as (keyof typeof partners)[];
    const engine = await engineFor(
      t,
      config(names.map((n) => partnerConnector(n, partners[n], { signing: rotation })).join(''), names.map((n) => orderFlow(`to-${n}`, n)).join('')),
    );
    const ids = Object.fromEntries(await Promise.all(names.map(async (n) => [n, await engine.send(`to-${n}`, { id: `rot-${n}` })] as const)));
    await engine.reaches(ids.old!, 'done');
    await engine.reaches(ids.new!, 'done');
    await engine.reaches(ids.other!, 'dead');

    for (const n of names) {
      assert.equal(partners[n].got.length, 1, `${n}: one delivery`);
      const got = partners[n].got[0]!;
      assert.equal(String(got.headers['webhook-signature']).split(' ').length, 2, `${n}: one v1 signature per secret`);
      assert.equal(got.verified, n !== 'other', `${n}: ${got.error ?? 'verified'}`);
    }
    const dl = await engine.store.deadLetters.get(ids.other!);
    assert.equal(dl?.lastResponse?.status, 401);
  });

  it('wraps the body in the {type, timestamp, data} envelope when the connector asks; the timestamp is when the event came in', { timeout: 30_000 }, async (t) => {
    const partner = await startWebhookReceiver(t, SECRETS.a);
    const engine = await engineFor(t, config(partnerConnector('partner', partner, { extra: 'envelope: { type: "order.{{ status }}" }' }), orderFlow('orders', 'partner')));
    partner.plan([503]);
    const id = await engine.send('orders', { id: 'E-1', status: 'created' });
    await engine.reaches(id, 'done');

    const receivedAt = (await engine.store.getMessage(id))?.meta.receivedAt;
    assert.equal(typeof receivedAt, 'string');
    assert.deepEqual(partner.got.map((g) => g.verified), [true, true]);
    for (const got of partner.got) {
      assert.equal(got.headers['content-type'], 'application/json');
      assert.deepEqual(JSON.parse(got.body), { type: 'order.created', timestamp: receivedAt, data: { id: 'E-1', status: 'created' } });
    }
  });

  describe('an endpoint that keeps failing', () => {
    const failing = (partner: WebhookReceiver) =>
      config(
        // Many short attempts, so the message is still being retried when the endpoint has failed for disableAfter.
        partnerConnector('partner', partner).replace('retry: { maxAttempts: 5, baseMs: 10, maxMs: 2000 }', 'retry: { maxAttempts: 100, baseMs: 20, maxMs: 100 }\n    disableAfter: 300ms'),
        orderFlow('orders', 'partner'),
      );

    /** Sends an order to an endpoint answering 503 until it is disabled; @returns the dead-lettered message's id */
    async function disable(engine: Awaited<ReturnType<typeof engineFor>>, partner: WebhookReceiver): Promise<string> {
      partner.always(503);
      const id = await engine.send('orders', { id: 'D-1' });
      await engine.reaches(id, 'dead');
      const dl = await engine.store.deadLetters.get(id);
      assert.equal(dl?.errorCode, 'JNC_WEBHOOK_DISABLED');
      assert.match(dl?.error ?? '', /webhook endpoint is disabled since .*failing since .*disableAfter 300ms.*POST \/admin\/connectors\/partner\/enable/);
      assert.ok(partner.got.length >= 2, 'it was tried until it had failed for disableAfter');
      assert.ok(partner.got.every((g) => g.verified && g.headers['webhook-id'] === 'order-D-1'));
      return id;
    }

    it('is disabled: its messages are dead letters with the reason, the admin API shows it, and after enable a replay is delivered', { timeout: 30_000 }, async (t) => {
      const partner = await startWebhookReceiver(t, SECRETS.a);
      const engine = await engineFor(t, failing(partner));
      const first = await disable(engine, partner);

      // Disabled: a new message is a dead letter at once, the endpoint not called.
      const sent = partner.got.length;
      const second = await engine.send('orders', { id: 'D-2' });
      await engine.reaches(second, 'dead');
      const dl = await engine.store.deadLetters.get(second);
      assert.equal(dl?.errorCode, 'JNC_WEBHOOK_DISABLED');
      assert.equal(dl?.attempts, 1);
      assert.equal(partner.got.length, sent, 'a disabled endpoint is not called');

      const endpoint = await endpointOf(engine, 'partner');
      assert.equal(endpoint?.disabled, true);
      assert.match(String(endpoint?.reason), /failing since/);
      assert.equal(endpoint?.disableAfterMs, 300);

      // No token, no enabling.
      assert.equal((await engine.app.inject({ method: 'POST', url: '/admin/connectors/partner/enable' })).statusCode, 401);
      const unknown = await engine.app.inject({ method: 'POST', url: '/admin/connectors/nobody/enable', headers: auth });
      assert.equal(unknown.statusCode, 404);
      assert.equal(unknown.json().code, 'JNC_ENABLE_UNKNOWN');

      partner.always(200);
      const enabled = await engine.app.inject({ method: 'POST', url: '/admin/connectors/partner/enable', headers: auth });
      assert.equal(enabled.statusCode, 200);
      assert.equal(enabled.json().state.endpoint.disabled, false);
      const replay = await engine.app.inject({ method: 'POST', url: '/admin/dead-letters/replay', headers: auth, payload: { flow: 'orders' } });
      assert.deepEqual(new Set(replay.json().replayed), new Set([first, second]));
      await engine.reaches(first, 'done');
      await engine.reaches(second, 'done');
      const delivered = partner.got.filter((g) => g.status === 200);
      assert.deepEqual(delivered.map((g) => g.headers['webhook-id']).sort(), ['order-D-1', 'order-D-2']);
      assert.ok(delivered.every((g) => g.verified));
      assert.equal((await endpointOf(engine, 'partner'))?.disabled, false);
    });

    it('stays disabled after a restart on the same store', { timeout: 30_000 }, async (t) => {
      const partner = await startWebhookReceiver(t, SECRETS.a);
      const engine = await engineFor(t, failing(partner));
      await disable(engine, partner);
      await engine.stop();

      partner.always(200);
      const loaded = await loadConfig(engine.configFile, { env: ENV });
      const again = await startEngine(loaded, { logger: silentLogger, port: 0 });
      t.after(() => again.stop());
      // The connector reads its stored state as it starts; wait for the admin view to show it, then check it holds.
      await until(async () => (await endpointOf(again, 'partner'))?.disabled === true, 10_000, 20);

      const res = await fetch(`${again.url}/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: 'D-3' }) });
      const id = ((await res.json()) as { id: string }).id;
      const sent = partner.got.length;
      await until(async () => (await again.store.getMessage(id))?.state === 'dead', 15_000, 20);
      assert.equal((await again.store.deadLetters.get(id))?.errorCode, 'JNC_WEBHOOK_DISABLED');
      assert.equal(partner.got.length, sent, 'the restarted engine does not call the disabled endpoint');
    });
  });
});
