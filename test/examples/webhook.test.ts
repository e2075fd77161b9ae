/**
 * The webhook example: an order posted to Junction reaches the demo partner as
 * a signed webhook in the {type, timestamp, data} envelope, verified by the
 * partner with the standardwebhooks package; one the partner answers 503 at
 * first is retried under the same webhook-id. `junction check` accepts the config.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Received } from '../../examples/webhook/partner.ts';
import { junction } from '../helpers/cli.ts';
import { tempDir } from '../helpers/engine.ts';
import { startExample, until } from '../helpers/example.ts';

const CONFIG = fileURLToPath(new URL('../../examples/webhook/junction.yaml', import.meta.url));

it('delivers orders to the partner as verified webhooks, a retried one under the same webhook-id', { timeout: 60_000 }, async (t) => {
  const env = { PORT: '0', PARTNER_PORT: '0', WEBHOOK_DB: join(tempDir(t), 'junction.db') };
  const checked = await junction(['check', '-c', CONFIG], env);
  assert.equal(checked.code, 0, checked.stderr);

  const example = await startExample(t, 'examples/webhook/start.ts', env, ['Junction', 'Demo partner']);
  const [junctionUrl, partnerUrl] = example.urls;
  const post = async (order: unknown) => {
    const res = await fetch(`${junctionUrl}/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(order) });
    assert.equal(res.status, 202);
  };
  /** The partner's deliveries of one webhook-id, once one of them was accepted. */
  const delivered = (webhookId: string) =>
    until(async () => {
      const all = (await (await fetch(`${partnerUrl}/received`)).json()) as Received[];
      const mine = all.filter((r) => r.webhookId === webhookId);
      return mine.some((r) => r.status === 200) ? mine : undefined;
    }, `${webhookId} at the partner`);

  await post({ id: 'A-1', status: 'created', items: [{ price: 12.5, qty: 2 }] });
  const [first] = await delivered('order-A-1');
  assert.equal(first?.verified, true);
  const envelope = first?.body as { type: string; timestamp: string; data: unknown };
  assert.equal(envelope.type, 'order.created');
  assert.ok(!Number.isNaN(Date.parse(envelope.timestamp)));
  assert.deepEqual(envelope.data, { id: 'A-1', status: 'created', total: 25 });

  await post({ id: 'A-2', status: 'created', items: [{ price: 4, qty: 1 }], flaky: true });
  const attempts = await delivered('order-A-2');
  assert.deepEqual(attempts.map((r) => [r.status, r.verified]), [[503, true], [200, true]]);
  assert.match(example.output(), /partner: 200 order-A-2 at \d+: \{"type":"order.created"/);
});
