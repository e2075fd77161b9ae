import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connectorEntry as connectorOptions } from '../../src/config/schema.ts';
import { closeConnectors, createConnectors } from '../../src/connectors/registry.ts';
import { startTestSink } from '../helpers/sink.ts';

test('createConnectors builds every connector by type, and closeConnectors closes them', async (t) => {
  const sink = await startTestSink(t);
  const config = {
    crm: connectorOptions.parse({ type: 'rest', baseUrl: `${sink.url}/crm` }),
    shop: connectorOptions.parse({ type: 'rest', baseUrl: `${sink.url}/shop` }),
  };
  const connectors = createConnectors(config);
  assert.deepEqual([...connectors.keys()], ['crm', 'shop']);
  const shop = connectors.get('shop');
  assert.ok(shop);
  assert.equal(shop.name, 'shop');
  const res = await shop.call({ method: 'GET', path: '/items' }, { signal: new AbortController().signal });
  assert.equal(res.status, 200);
  assert.equal(sink.requests[0]?.url, '/shop/items');
  await closeConnectors(connectors);
  await assert.rejects(shop.call({ method: 'GET', path: '/' }, { signal: new AbortController().signal }), { code: 'JNC_SHUTDOWN' });
});
