/**
 * The SOAP example: an order delivered to the demo ERP over SOAP with
 * WS-Security, an unknown SKU dead-lettered with the fault string, and a stock
 * lookup answered synchronously with the SOAP answer as JSON.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { junction } from '../helpers/cli.ts';
import { tempDir } from '../helpers/engine.ts';
import { startExample, until } from '../helpers/example.ts';

const CONFIG = fileURLToPath(new URL('../../examples/soap/junction.yaml', import.meta.url));

it('delivers an order to the SOAP ERP, dead-letters an unknown SKU and answers a stock lookup', { timeout: 60_000 }, async (t) => {
  const env = { PORT: '0', ERP_PORT: '0', SOAP_DB: join(tempDir(t), 'junction.db') };
  const example = await startExample(t, 'examples/soap/start.ts', env, ['Junction', 'Demo ERP']);
  const [junctionUrl, erpUrl] = example.urls;
  const post = (path: string, body: unknown) => fetch(`${junctionUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  assert.equal((await post('/orders', { id: 'A-1', sku: 'SKU-1', qty: 2 })).status, 202);
  const orders = await until(async () => {
    const o = (await (await fetch(`${erpUrl}/orders`)).json()) as Record<string, unknown>;
    return o['A-1'] ? o : undefined;
  }, 'the order in the ERP');
  assert.deepEqual(orders['A-1'], { orderId: 'ERP-1', sku: 'SKU-1', quantity: 2 });

  const bad = (await (await post('/orders', { id: 'A-2', sku: 'SKU-9', qty: 1 })).json()) as { id: string };
  const listed = await until(async () => {
    const r = await junction(['dlq', 'list', '-c', CONFIG, '--json'], env);
    return r.stdout.includes(bad.id) ? r.stdout : undefined;
  }, 'the dead letter');
  assert.match(listed, /Unknown SKU SKU-9/);

  const stock = await post('/stock', { sku: 'SKU-1' });
  assert.equal(stock.status, 200);
  assert.deepEqual(await stock.json(), { sku: 'SKU-1', available: 40 });
});
