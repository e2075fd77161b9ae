/**
 * convert inside a running Junction: an XML order posted to a trigger is read
 * into JSON, mapped, written back as XML and delivered under application/xml;
 * an order that is not well-formed XML is kept as a dead letter with the reason
 * (sent as text: sent as XML, the trigger refuses it at once).
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { startTestEngine } from '../helpers/engine.ts';
import { startTestSink } from '../helpers/sink.ts';

async function setup(t: TestContext) {
  const sink = await startTestSink(t);
  const engine = await startTestEngine(
    t,
    `
store: sqlite:./junction.db
worker: { pollMs: 20, leaseMs: 5000, drainMs: 1000 }
connectors:
  erp:
    type: rest
    baseUrl: ${sink.url}/erp
    retry: { maxAttempts: 3, baseMs: 10, maxMs: 100 }
flows:
  orders-to-erp:
    trigger: { http: { path: /hooks/orders, accept: [xml, text] } }
    steps:
      - convert: { to: json, from: xml, xml: { arrays: [Order.Items.Item] } }
      - map:
          "@ref": "\`@id\`"
          customer: customer.name
          total: "$sum(Items.Item.($number(price) * $number(qty)))"
          Line: "[Items.Item.{ '@sku': \`@sku\`, 'qty': qty }]"
      - convert: { to: xml, xml: { root: ErpOrder } }
      - deliver: { connector: erp, request: { path: /orders } }
`,
  );
  const postXml = async (xml: string, contentType = 'application/xml'): Promise<string> => {
    const res = await fetch(`${engine.url}/hooks/orders`, { method: 'POST', headers: { 'content-type': contentType }, body: xml });
    assert.equal(res.status, 202);
    return ((await res.json()) as { id: string }).id;
  };
  const stateOf = async (id: string) => (await engine.store.getMessage(id))?.state;
  return { sink, engine, postXml, stateOf };
}

describe('convert in a flow', () => {
  it('XML in, mapped as JSON, XML out: the sink gets XML under application/xml', async (t) => {
    const { sink, engine, postXml, stateOf } = await setup(t);
    const id = await postXml(
      '<?xml version="1.0" encoding="UTF-8"?>\n<Order id="A-7"><customer><name>Zoë</name></customer>' +
        '<Items><Item sku="007"><qty>02</qty><price>12.50</price></Item></Items></Order>',
    );
    await engine.until(async () => (await stateOf(id)) === 'done');
    assert.equal(sink.requests.length, 1);
    const req = sink.requests[0]!;
    assert.equal(req.url, '/erp/orders');
    assert.equal(req.headers['content-type'], 'application/xml');
    assert.equal(
      req.body,
      '<?xml version="1.0" encoding="UTF-8"?>\n<ErpOrder ref="A-7"><customer>Zoë</customer><total>25</total><Line sku="007"><qty>02</qty></Line></ErpOrder>',
    );
  });

  it('XML that is not well-formed becomes a dead letter with JNC_CONVERT_XML, payload kept, nothing sent', async (t) => {
    const { sink, engine, postXml, stateOf } = await setup(t);
    const broken = '<Order id="A-8">\n  <Items>\n</Order>';
    const id = await postXml(broken, 'text/plain');
    await engine.until(async () => (await stateOf(id)) === 'dead');
    const dl = await engine.store.deadLetters.get(id);
    assert.ok(dl);
    assert.equal(dl.errorCode, 'JNC_CONVERT_XML');
    assert.match(dl.reason.join('\n'), /orders-to-erp\[0\]\.convert: the body is not well-formed XML: line 3, column \d+/);
    assert.equal(dl.body, broken, 'the original payload is kept');
    assert.equal(dl.history.length, 1, 'a permanent error is not retried');
    assert.equal(sink.requests.length, 0);
  });
});
