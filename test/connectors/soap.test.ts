/**
 * The soap connector against the soap package's own server on loopback, with a
 * WSDL of our own: SOAP 1.1 and 1.2 as their bindings say, document/literal
 * and RPC/literal, faults classified, WS-Security in both password forms.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import type { Connector } from '../../src/connectors/connector.ts';
import { createConnector } from '../../src/connectors/registry.ts';
import { soapConnector, soapConnectorOptions } from '../../src/connectors/soap.ts';
import { fault, SOAP_FIXTURES, startErp, startRates } from '../helpers/soap.ts';
import { junctionRejection } from '../helpers/rejection.ts';

const live = { signal: new AbortController().signal };

function soapConnectorFor(t: TestContext, input: Record<string, unknown>): Connector {
  const c = createConnector('erp', soapConnectorOptions.parse({ type: 'soap', wsdl: 'erp.wsdl', timeoutMs: 3000, ...input }), { baseDir: SOAP_FIXTURES });
  t.after(() => c.close());
  return c;
}

const json = (body: unknown) => ({ method: 'POST', path: 'CreateOrder', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

test('SOAP 1.1: text/xml, a quoted SOAPAction and the 1.1 envelope; the answer reads as the output object', async (t) => {
  const erp = await startErp(t, { version: '1.1' });
  const c = soapConnectorFor(t, { endpoint: erp.endpoint, port: 'ErpSoap11' });
  const res = await c.call(json({ reference: 'A-1', sku: 'SKU-9', quantity: 3 }), live);
  assert.equal(res.status, 200);
  assert.equal(c.classify(res), 'ok');
  assert.deepEqual(c.read(res), { body: { orderId: 'ERP-A-1', status: 'accepted' }, contentType: 'application/json' });
  const seen = erp.seen[0]!;
  assert.equal(seen.headers['content-type'], 'text/xml; charset=utf-8');
  assert.equal(seen.headers.soapaction, '"http://example.com/erp/CreateOrder"');
  assert.match(seen.body, /xmlns:soap="http:\/\/schemas\.xmlsoap\.org\/soap\/envelope\/"/);
  assert.match(seen.body, /<(\w+:)?reference>A-1<\/(\w+:)?reference>/);
  assert.equal(erp.calls.get('CreateOrder'), 1);
});

test('SOAP 1.2: application/soap+xml with the action parameter, no SOAPAction header, the 1.2 envelope', async (t) => {
  const erp = await startErp(t, { version: '1.2' });
  const c = soapConnectorFor(t, { endpoint: erp.endpoint, port: 'ErpSoap12' });
  const res = await c.call({ ...json({ sku: 'SKU-9' }), path: 'GetStock' }, live);
  assert.equal(c.classify(res), 'ok', res.body.toString());
  assert.deepEqual(c.read(res).body, { sku: 'SKU-9', available: 7 });
  const seen = erp.seen[0]!;
  assert.equal(seen.headers['content-type'], 'application/soap+xml; charset=utf-8; action="http://example.com/erp/GetStock"');
  assert.equal(seen.headers.soapaction, undefined);
  assert.match(seen.body, /xmlns:soap="http:\/\/www\.w3\.org\/2003\/05\/soap-envelope"/);
});

test('an XML body is sent as the Body content, as is', async (t) => {
  const erp = await startErp(t);
  const c = soapConnectorFor(t, { endpoint: erp.endpoint, port: 'ErpSoap11' });
  const xml = '<?xml version="1.0"?><e:CreateOrder xmlns:e="http://example.com/erp"><e:reference>X-7</e:reference><e:sku>S</e:sku><e:quantity>1</e:quantity></e:CreateOrder>';
  const res = await c.call({ method: 'POST', path: 'CreateOrder', headers: { 'content-type': 'application/xml' }, body: xml }, live);
  assert.deepEqual(c.read(res).body, { orderId: 'ERP-X-7', status: 'accepted' });
  assert.ok(erp.seen[0]!.body.includes('<soap:Body><e:CreateOrder xmlns:e="http://example.com/erp"><e:reference>X-7'), erp.seen[0]!.body);
});

test('RPC/literal: the parts are wrapped in the operation element and the answer reads back', async (t) => {
  const rates = await startRates(t);
  const c = soapConnectorFor(t, { wsdl: 'rates.wsdl', endpoint: rates.endpoint });
  const res = await c.call({ ...json({ from: 'EUR', to: 'USD' }), path: 'GetRate' }, live);
  assert.equal(c.classify(res), 'ok', res.body.toString());
  assert.deepEqual(c.read(res).body, { rate: 1.25 });
  assert.match(rates.seen[0]!.body, /<(\w+:)?GetRate[ >][\s\S]*<from>EUR<\/from><to>USD<\/to>/);
  assert.equal(rates.seen[0]!.headers.soapaction, '"http://example.com/rates/GetRate"');
});

test('a Server fault is retried, a Client fault is permanent; both explained with code and string', async (t) => {
  for (const version of ['1.1', '1.2'] as const) {
    const erp = await startErp(t, {
      version,
      createOrder: (args) => (args.reference === 'busy' ? fault(version, 'Server', 'ERP is busy') : fault(version, 'Client', 'Unknown SKU S-0')),
    });
    const c = soapConnectorFor(t, { endpoint: erp.endpoint, port: version === '1.1' ? 'ErpSoap11' : 'ErpSoap12' });
    const busy = await c.call(json({ reference: 'busy', sku: 'S', quantity: 1 }), live);
    assert.equal(busy.status, 500);
    assert.equal(c.classify(busy), 'retry', version);
    assert.match(c.explain(busy)!.reason, version === '1.1' ? /^SOAP Fault soap:Server: ERP is busy$/ : /^SOAP Fault soap:Receiver: ERP is busy$/);
    const bad = await c.call(json({ reference: 'x', sku: 'S-0', quantity: 1 }), live);
    assert.equal(c.classify(bad), 'permanent', version);
    assert.match(c.explain(bad)!.reason, /Unknown SKU S-0/);
  }
});

test('a fault in a 200 answer is still a fault', async (t) => {
  const erp = await startErp(t, { createOrder: () => fault('1.1', 'Client', 'Duplicate order', 200) });
  const c = soapConnectorFor(t, { endpoint: erp.endpoint, port: 'ErpSoap11' });
  const res = await c.call(json({ reference: 'd', sku: 'S', quantity: 1 }), live);
  assert.equal(res.status, 200);
  assert.equal(c.classify(res), 'permanent');
  assert.match(c.explain(res)!.reason, /Duplicate order/);
});

test('WS-Security: PasswordText and PasswordDigest are accepted, each call with a fresh nonce; a wrong password is refused', async (t) => {
  const credentials = { username: 'erp-user', password: 's3cret' };
  const erp = await startErp(t, { credentials });
  for (const passwordType of ['PasswordText', 'PasswordDigest']) {
    const c = soapConnectorFor(t, { endpoint: erp.endpoint, port: 'ErpSoap11', auth: { wsSecurity: { ...credentials, passwordType } } });
    for (let i = 0; i < 2; i++) {
      const res = await c.call(json({ reference: `${passwordType}-${i}`, sku: 'S', quantity: 1 }), live);
      assert.equal(c.classify(res), 'ok', res.body.toString());
    }
  }
  assert.deepEqual(erp.auth, [
    { ok: true, type: 'PasswordText' },
    { ok: true, type: 'PasswordText' },
    { ok: true, type: 'PasswordDigest' },
    { ok: true, type: 'PasswordDigest' },
  ]);
  const nonces = erp.seen.map((s) => /<wsse:Nonce[^>]*>([^<]+)</.exec(s.body)?.[1]);
  assert.equal(new Set(nonces).size, 4, 'a fresh nonce on every call');
  assert.ok(!erp.seen[2]!.body.includes('s3cret'), 'a digest never sends the password');
  const wrong = soapConnectorFor(t, { endpoint: erp.endpoint, port: 'ErpSoap11', auth: { wsSecurity: { username: 'erp-user', password: 'nope', passwordType: 'PasswordDigest' } } });
  const res = await wrong.call(json({ reference: 'w', sku: 'S', quantity: 1 }), live);
  assert.equal(wrong.classify(res), 'permanent');
  assert.match(wrong.explain(res)!.reason, /Invalid username or password/);
  assert.equal(erp.calls.get('CreateOrder'), 4);
});

test('an operation the WSDL has not fails the call permanently, naming the closest one', async (t) => {
  const erp = await startErp(t);
  const c = soapConnectorFor(t, { endpoint: erp.endpoint, port: 'ErpSoap11' });
  const err = await junctionRejection(c.call({ ...json({}), path: 'CreateOrdr' }, live));
  assert.equal(err.code, 'JNC_SOAP_REQUEST');
  assert.match(err.message, /no operation "CreateOrdr" \(did you mean "CreateOrder"\?\)/);
  assert.equal(erp.seen.length, 0);
});

test('check: a missing file, a file that is not XML, an unknown port and an unknown operation each give their reason', async () => {
  const check = (o: Record<string, unknown>) => soapConnector.check!(soapConnectorOptions.parse({ type: 'soap', ...o }), { baseDir: SOAP_FIXTURES });
  assert.deepEqual(await check({ wsdl: 'erp.wsdl', port: 'ErpSoap11' }), []);
  const missing = await check({ wsdl: 'nope.wsdl' });
  assert.deepEqual(missing.map((i) => i.path), [['wsdl']]);
  assert.match(missing[0]!.message, /cannot read .*nope\.wsdl: no such file/);
  const notXml = await check({ wsdl: 'not-xml.wsdl' });
  assert.match(notXml[0]!.message, /is not XML/);
  const port = await check({ wsdl: 'erp.wsdl', port: 'ErpSoap13' });
  assert.deepEqual(port.map((i) => i.path), [['port']]);
  assert.match(port[0]!.message, /no port "ErpSoap13" \(did you mean "ErpSoap11"\?\)/);
  const several = await check({ wsdl: 'erp.wsdl' });
  assert.match(several[0]!.message, /2 ports \(ErpSoap11, ErpSoap12\); name one with port:/);
  const options = soapConnectorOptions.parse({ type: 'soap', wsdl: 'erp.wsdl', port: 'ErpSoap11' });
  const op = await soapConnector.checkRequest!(options, { operation: 'GetStok' }, { baseDir: SOAP_FIXTURES });
  assert.deepEqual(op.map((i) => i.path), [['operation']]);
  assert.match(op[0]!.message, /no operation "GetStok" \(did you mean "GetStock"\?\)/);
});
