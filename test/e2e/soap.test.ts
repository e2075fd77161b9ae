/**
 * Flows that call a SOAP ERP (the soap package's own server on loopback):
 * a Server fault is retried and the order delivered once, a Client fault is
 * dead-lettered with its fault string, a `call` answer becomes JSON for the
 * next step, `enrich` adds an operation's answer to the body, `poll` turns an
 * operation's answer into messages (deduped on their key), and `junction
 * check` refuses a broken WSDL or an unknown operation at its line.
 */
import assert from 'node:assert/strict';
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { junction } from '../helpers/cli.ts';
import { startTestEngine, writeTestConfig } from '../helpers/engine.ts';
import { startRecorder } from '../helpers/servers.ts';
import { fault, SOAP_FIXTURES, startErp, type ErpOptions } from '../helpers/soap.ts';

const WSDL = join(SOAP_FIXTURES, 'erp.wsdl');

async function setup(t: TestContext, erpOptions: ErpOptions, extraFlows = '', extraConnectors = '') {
  const erp = await startErp(t, erpOptions);
  const engine = await startTestEngine(
    t,
    `
store: sqlite:./junction.db
worker: { pollMs: 20, leaseMs: 5000, drainMs: 1000 }
connectors:
  erp:
    type: soap
    wsdl: ${WSDL}
    port: ErpSoap11
    endpoint: ${erp.endpoint}
    timeoutMs: 3000
    retry: { maxAttempts: 5, baseMs: 10, maxMs: 50 }
${extraConnectors}
flows:
  orders-to-erp:
    trigger: { http: { path: /hooks/orders } }
    steps:
      - map: { reference: id, sku: sku, quantity: qty }
      - deliver: { connector: erp, request: { operation: CreateOrder } }
${extraFlows}
`,
  );
  const stateOf = async (id: string) => (await engine.store.getMessage(id))?.state;
  return { erp, engine, stateOf };
}

describe('flows calling a SOAP service', () => {
  it('retries a Server fault and delivers the order once', async (t) => {
    const { erp, engine, stateOf } = await setup(t, {
      createOrder: (args, n) => (n <= 2 ? fault('1.1', 'Server', 'ERP database is locked') : { orderId: `E-${String(args.reference)}`, status: 'accepted' }),
    });
    const res = await engine.post('/hooks/orders', { id: 'A-1', sku: 'SKU-1', qty: 2 });
    const id = res.json.id as string;
    await engine.until(async () => (await stateOf(id)) === 'done');
    assert.equal(erp.calls.get('CreateOrder'), 3, 'two faults, then one success');
    assert.ok(erp.seen.every((s) => /<(\w+:)?reference>A-1</.test(s.body)));
    assert.equal(new Set(erp.seen.map((s) => s.headers['idempotency-key'])).size, 1, 'one idempotency key on every attempt');
  });

  it('dead-letters a Client fault at once, with the fault code and string', async (t) => {
    const { erp, engine, stateOf } = await setup(t, { createOrder: () => fault('1.1', 'Client', 'Unknown SKU SKU-404') });
    const res = await engine.post('/hooks/orders', { id: 'B-1', sku: 'SKU-404', qty: 1 });
    const id = res.json.id as string;
    await engine.until(async () => (await stateOf(id)) === 'dead');
    assert.equal(erp.calls.get('CreateOrder'), 1, 'a Client fault is not retried');
    const dl = await engine.store.deadLetters.get(id);
    const reason = dl?.reason.join('\n') ?? '';
    assert.match(reason, /JNC_REMOTE_REJECTED/);
    assert.match(reason, /SOAP Fault soap:Client: Unknown SKU SKU-404/);
  });

  it('turns a call answer into JSON for the next step', async (t) => {
    const sink = await startRecorder(t, (_req, res) => res.writeHead(204).end());
    const { engine, stateOf } = await setup(
      t,
      { getStock: (args) => ({ sku: args.sku, available: 42 }) },
      `  stock:
    trigger: { http: { path: /hooks/stock } }
    steps:
      - call: { connector: erp, request: { operation: GetStock } }
      - map: { sku: sku, inStock: available > 0, available: available }
      - deliver: { connector: sink, request: { path: /stock } }`,
      `  sink: { type: rest, baseUrl: ${sink.url} }`,
    );
    const res = await engine.post('/hooks/stock', { sku: 'SKU-7' });
    const id = res.json.id as string;
    await engine.until(async () => (await stateOf(id)) === 'done');
    assert.equal(sink.seen.length, 1);
    assert.deepEqual(JSON.parse(sink.seen[0]!.body), { sku: 'SKU-7', inStock: true, available: 42 });
  });
});

describe('a SOAP connector in enrich and poll', () => {
  it('enrich adds an operation\'s answer to the body, sent from the body', async (t) => {
    const sink = await startRecorder(t, (_req, res) => res.writeHead(204).end());
    const { erp, engine, stateOf } = await setup(
      t,
      { getStock: (args) => ({ sku: args.sku, available: 7 }) },
      `  enriched:
    trigger: { http: { path: /hooks/enriched } }
    steps:
      - enrich: { connector: erp, into: stock, request: { operation: GetStock } }
      - deliver: { connector: sink, request: { path: /enriched } }`,
      `  sink: { type: rest, baseUrl: ${sink.url} }`,
    );
    const res = await engine.post('/hooks/enriched', { sku: 'SKU-3', note: 'kept' });
    await engine.until(async () => (await stateOf(res.json.id as string)) === 'done');
    assert.ok(erp.seen.some((s) => /<(\w+:)?sku>SKU-3</.test(s.body)), 'the lookup carried the body');
    assert.deepEqual(JSON.parse(sink.seen[0]!.body), { sku: 'SKU-3', note: 'kept', stock: { sku: 'SKU-3', available: 7 } });
  });

  it('poll calls an operation on every run, and its record becomes one message however often it is read', async (t) => {
    const sink = await startRecorder(t, (_req, res) => res.writeHead(204).end());
    const { erp, engine } = await setup(
      t,
      { getStock: () => ({ sku: 'SKU-9', available: 3 }) },
      `  stock-levels:
    trigger: { poll: { connector: erp, every: 50, request: { operation: GetStock }, items: "[$]", key: sku } }
    steps:
      - deliver: { connector: sink, request: { path: /levels } }`,
      `  sink: { type: rest, baseUrl: ${sink.url} }`,
    );
    await engine.until(() => (erp.calls.get('GetStock') ?? 0) >= 3 && sink.seen.length >= 1);
    assert.equal(sink.seen.length, 1, 'read three times or more, delivered once (deduped on its key)');
    assert.deepEqual(JSON.parse(sink.seen[0]!.body), { sku: 'SKU-9', available: 3 });
    assert.equal((await engine.store.stats('stock-levels')).done, 1);
  });
});

describe('junction check with a soap connector', () => {
  function config(t: TestContext, wsdl: string, operation = 'CreateOrder'): string {
    const { configFile } = writeTestConfig(
      t,
      `connectors:
  erp:
    type: soap
    wsdl: ${wsdl}
    port: ErpSoap11
flows:
  orders:
    trigger: { http: { path: /hooks/orders } }
    steps:
      - deliver: { connector: erp, request: { operation: ${operation} } }
`,
    );
    return configFile;
  }

  it('accepts a good WSDL relative to the config file', async (t) => {
    const file = config(t, './erp.wsdl');
    copyFileSync(WSDL, join(file, '..', 'erp.wsdl'));
    const r = await junction(['check', '-c', file]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /OK \(1 flow, 1 connector\)/);
  });

  it('refuses a broken WSDL at the line of wsdl, with the reason', async (t) => {
    const file = config(t, './erp.wsdl');
    writeFileSync(join(file, '..', 'erp.wsdl'), '<wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/"><wsdl:message name="x">');
    const r = await junction(['check', '-c', file]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /junction\.yaml:4:\d+ connectors\.erp\.wsdl: .*erp\.wsdl defines no SOAP service/);
  });

  it('refuses a missing WSDL file', async (t) => {
    const file = config(t, './missing.wsdl');
    const r = await junction(['check', '-c', file]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /junction\.yaml:4:\d+ connectors\.erp\.wsdl: cannot read .*missing\.wsdl: no such file/);
  });

  it('refuses an operation the WSDL has not, with a did-you-mean', async (t) => {
    const file = config(t, WSDL, 'CreatOrder');
    const r = await junction(['check', '-c', file]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /junction\.yaml:10:\d+ flows\.orders\.steps\[0\]\.deliver\.request\.operation: .*no operation "CreatOrder" \(did you mean "CreateOrder"\?\)/);
  });
});
