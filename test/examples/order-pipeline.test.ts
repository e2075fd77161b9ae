/**
 * The order-pipeline example: an XML order is converted, validated, mapped,
 * enriched, filtered, split and delivered line by line; a quote is answered
 * synchronously through call and respond.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { junction } from '../helpers/cli.ts';
import { tempDir } from '../helpers/engine.ts';
import { startExample, until } from '../helpers/example.ts';

const CONFIG = fileURLToPath(new URL('../../examples/order-pipeline/junction.yaml', import.meta.url));

it('shapes an XML order into reservations, drops a trivial one, dead-letters an invalid one, and quotes', { timeout: 60_000 }, async (t) => {
  const env = { PORT: '0', SYSTEMS_PORT: '0', PIPELINE_DB: join(tempDir(t), 'junction.db') };
  const example = await startExample(t, 'examples/order-pipeline/start.ts', env, ['Junction', 'Systems']);
  const [junctionUrl, systemsUrl] = example.urls;
  const postXml = async (xml: string) => {
    const res = await fetch(`${junctionUrl}/erp/orders`, { method: 'POST', headers: { 'content-type': 'application/xml' }, body: xml });
    assert.equal(res.status, 202);
    return ((await res.json()) as { id: string }).id;
  };
  const reservations = async () => (await (await fetch(`${systemsUrl}/inventory/reservations`)).json()) as Record<string, unknown>;

  // 1. Two lines for a gold customer: one reservation per line, under keys the split derives.
  await postXml('<Order id="A-1"><Customer><Email>Ada@Example.com</Email></Customer><Lines><Line sku="SKU-1" qty="2" price="12.50"/><Line sku="SKU-2" qty="1" price="4"/></Lines></Order>');
  const both = await until(async () => {
    const r = await reservations();
    return r['A-1-SKU-1'] && r['A-1-SKU-2'] ? r : undefined;
  }, 'both reservations');
  assert.deepEqual(both['A-1-SKU-1'], { orderId: 'A-1', tier: 'gold', sku: 'SKU-1', qty: 2 });
  assert.deepEqual(both['A-1-SKU-2'], { orderId: 'A-1', tier: 'gold', sku: 'SKU-2', qty: 1 });

  // 2. An unknown customer is not enriched (404 skipped); a one-line order of 4.00 is below the filter and dropped.
  await postXml('<Order id="A-2"><Customer><Email>bob@example.com</Email></Customer><Lines><Line sku="SKU-1" qty="1" price="12.50"/></Lines></Order>');
  await postXml('<Order id="A-3"><Customer><Email>cy@example.com</Email></Customer><Lines><Line sku="SKU-2" qty="1" price="4"/></Lines></Order>');
  const withBob = await until(async () => {
    const r = await reservations();
    return r['A-2-SKU-1'] ? r : undefined;
  }, 'the reservation for A-2');
  assert.deepEqual(withBob['A-2-SKU-1'], { orderId: 'A-2', tier: 'standard', sku: 'SKU-1', qty: 1 });

  // 3. An order without an email fails its schema: a dead letter that lists the violation.
  const invalid = await postXml('<Order id="A-4"><Customer/><Lines><Line sku="SKU-1" qty="1" price="12.50"/></Lines></Order>');
  const listed = await until(async () => {
    const r = await junction(['dlq', 'list', '-c', CONFIG, '--json'], env);
    return r.stdout.includes(invalid) ? r.stdout : undefined;
  }, 'the dead letter');
  const row = JSON.parse(listed.trim().split('\n')[0]!) as { errorCode: string; error: string };
  assert.equal(row.errorCode, 'JNC_INPUT_SCHEMA');
  assert.match(row.error, /Customer/);
  assert.equal((await reservations())['A-3-SKU-2'], undefined, 'the trivial order was dropped');

  // 4. A quote is answered synchronously with the pricing system's answer.
  const quote = await fetch(`${junctionUrl}/quotes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"sku":"SKU-1","qty":3}' });
  assert.equal(quote.status, 200);
  assert.deepEqual(await quote.json(), { sku: 'SKU-1', qty: 3, price: 37.5 });
  const bad = await fetch(`${junctionUrl}/quotes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"sku":"SKU-1","qty":0}' });
  assert.equal(bad.status, 422, 'refused at ingress by its schema');

  example.child.kill('SIGINT');
  assert.equal(await example.exited, 0, example.output());
});
