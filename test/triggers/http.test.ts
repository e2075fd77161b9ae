/**
 * What the HTTP trigger makes of a request before it is stored: an XML body
 * is well-formed or refused, the path and the query are kept apart (credential
 * values never stored), and a trailing slash reaches the same trigger.
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { parseConfigText } from '../../src/config/load.ts';
import { ingressConfig, startIngressEngine, storedCount } from '../helpers/ingress.ts';

const FLOWS = `
  orders:
    trigger: { http: { path: /hooks/orders } }
    steps: [ { deliver: { connector: sink } } ]
  xml:
    trigger: { http: { path: /hooks/xml, accept: [xml, json] } }
    steps: [ { deliver: { connector: sink } } ]
  slashed:
    trigger: { http: { path: /hooks/slashed/ } }
    steps: [ { deliver: { connector: sink } } ]
`;

const start = (t: TestContext) => startIngressEngine(t, FLOWS);

describe('HTTP trigger: XML bodies', () => {
  it('refuses malformed XML with 400 JNC_INPUT_MALFORMED_XML, naming the line and column, and stores nothing', async (t) => {
    const engine = await start(t);
    const payload = '<?xml version="1.0"?>\n<Order>\n  <Customer>\n</Order>\n';
    const res = await engine.app.inject({ method: 'POST', url: '/hooks/xml', headers: { 'content-type': 'application/xml' }, payload });
    assert.equal(res.statusCode, 400);
    assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
    const problem = res.json() as Record<string, unknown>;
    assert.equal(problem.code, 'JNC_INPUT_MALFORMED_XML');
    assert.equal(problem.title, 'Bad Request');
    assert.match(String(problem.detail), /^Body is not well-formed XML: line 4, column \d+: .*Customer/);
    assert.equal(problem.line, 4);
    assert.equal(typeof problem.column, 'number');
    assert.equal(await storedCount(engine), 0);
  });

  it('refuses a body that is not XML at all, an empty one, and one with two root elements', async (t) => {
    const engine = await start(t);
    for (const [payload, says] of [
      ['hello', /line 1, column 1/],
      ['', /line 1, column 1/],
      ['<a/><b/>', /line 1, column 5: .*root/i],
    ] as const) {
      const res = await engine.app.inject({ method: 'POST', url: '/hooks/xml', headers: { 'content-type': 'text/xml; charset=utf-8' }, payload });
      assert.equal(res.statusCode, 400, JSON.stringify(payload));
      assert.equal((res.json() as { code: string }).code, 'JNC_INPUT_MALFORMED_XML');
      assert.match((res.json() as { detail: string }).detail, says);
    }
    assert.equal(await storedCount(engine), 0);
  });

  it('accepts well-formed XML (declaration, comments, CDATA, +xml types) as text with its content type', async (t) => {
    const engine = await start(t);
    const payload = '<?xml version="1.0" encoding="UTF-8"?>\n<!-- order -->\n<Order id="7"><Note><![CDATA[a < b]]></Note></Order>\n';
    const res = await engine.app.inject({ method: 'POST', url: '/hooks/xml', headers: { 'content-type': 'application/vnd.shop+xml' }, payload });
    assert.equal(res.statusCode, 202, res.body);
    const rec = await engine.store.getMessage((res.json() as { id: string }).id);
    assert.equal(rec?.body, payload);
    assert.equal(rec?.headers['content-type'], 'application/vnd.shop+xml');
  });

  it('still answers 415, not 400, for XML (well-formed or not) where the trigger takes only JSON', async (t) => {
    const engine = await start(t);
    const res = await engine.app.inject({ method: 'POST', url: '/hooks/orders', headers: { 'content-type': 'application/xml' }, payload: '<a>' });
    assert.equal(res.statusCode, 415);
    assert.equal((res.json() as { code: string }).code, 'JNC_INPUT_UNSUPPORTED_TYPE');
  });
});

describe('HTTP trigger: path and query', () => {
  it('stores the path without its query, and the query apart as an object', async (t) => {
    const engine = await start(t);
    const res = await engine.app.inject({
      method: 'POST',
      url: '/hooks/orders?page=2&tag=a&tag=b&note=caf%C3%A9+au+lait',
      headers: { 'content-type': 'application/json' },
      payload: { id: 1 },
    });
    assert.equal(res.statusCode, 202);
    const rec = await engine.store.getMessage((res.json() as { id: string }).id);
    assert.equal(rec?.meta.path, '/hooks/orders');
    assert.deepEqual(rec?.meta.query, { page: '2', tag: ['a', 'b'], note: 'café au lait' });
  });

  it('never stores the value of a query parameter whose name is a credential (token, api_key, sig…)', async (t) => {
    const engine = await start(t);
    const res = await engine.app.inject({
      method: 'POST',
      url: '/hooks/orders?token=caller-token-123&API_KEY=k-456&sig=abc789&page=2',
      headers: { 'content-type': 'application/json' },
      payload: { id: 1 },
    });
    assert.equal(res.statusCode, 202);
    const rec = await engine.store.getMessage((res.json() as { id: string }).id);
    assert.deepEqual(rec?.meta.query, { page: '2' });
    const stored = JSON.stringify(rec);
    for (const secret of ['caller-token-123', 'k-456', 'abc789']) assert.ok(!stored.includes(secret), `${secret} stored`);
  });

  it('stores no query key when the URL has none', async (t) => {
    const engine = await start(t);
    const res = await engine.app.inject({ method: 'POST', url: '/hooks/orders', headers: { 'content-type': 'application/json' }, payload: {} });
    const rec = await engine.store.getMessage((res.json() as { id: string }).id);
    assert.equal(rec?.meta.path, '/hooks/orders');
    assert.equal('query' in (rec?.meta ?? {}), false);
  });
});

describe('HTTP trigger: trailing slash', () => {
  it('takes /hooks/orders/ at the trigger of /hooks/orders, and the other way round', async (t) => {
    const engine = await start(t);
    const post = (url: string) => engine.app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload: { id: 1 } });
    assert.equal((await post('/hooks/orders/')).statusCode, 202);
    assert.equal((await post('/hooks/orders/?page=1')).statusCode, 202);
    assert.equal((await post('/hooks/slashed')).statusCode, 202);
    assert.equal((await post('/hooks/slashed/')).statusCode, 202);
    assert.equal(await storedCount(engine), 4);
    const wrongMethod = await engine.app.inject({ method: 'GET', url: '/hooks/orders/' });
    assert.equal(wrongMethod.statusCode, 405);
    assert.equal((await post('/hooks/orders//')).statusCode, 404, 'one slash is forgiven, not any path');
  });

  it('counts /hooks/a and /hooks/a/ as one path when two flows claim them: a config mistake, not a crash at start', () => {
    const parsed = parseConfigText(
      ingressConfig(`
  a:
    trigger: { http: { path: /hooks/a } }
    steps: [ { deliver: { connector: sink } } ]
  b:
    trigger: { http: { path: /hooks/a/ } }
    steps: [ { deliver: { connector: sink } } ]
`),
      'junction.yaml',
    );
    assert.equal(parsed.ok, false);
    const issues = parsed.ok ? [] : parsed.issues;
    assert.deepEqual(
      issues.map((i) => [i.path, i.message]),
      [['flows.b.trigger.http.path', 'POST /hooks/a/ is already the trigger of flow "a" (a trailing slash makes no difference); each flow needs its own path or method']],
    );
  });
});
