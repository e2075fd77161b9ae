/**
 * The HTTP trigger accepts only what it can commit, dedupes on the idempotency
 * key, and refuses bad input with an RFC 9457 problem that says what was wrong,
 * storing nothing.
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { startTestEngine } from '../helpers/engine.ts';
import { storedCount } from '../helpers/ingress.ts';

const CONFIG = `
store: sqlite:./junction.db
server: { maxBodyBytes: 2048 }
connectors:
  sink: { type: rest, baseUrl: "http://127.0.0.1:9" }
flows:
  orders:
    trigger: { http: { path: /hooks/orders } }
    steps:
      - deliver: { connector: sink }
  small:
    trigger: { http: { path: /hooks/small, maxBodyBytes: 64 } }
    steps:
      - deliver: { connector: sink }
  xml:
    trigger: { http: { path: /hooks/xml, accept: [json, xml, csv] } }
    steps:
      - deliver: { connector: sink }
  keyed:
    trigger: { http: { path: /hooks/keyed, idempotencyKey: "$headers.'webhook-id'" } }
    steps:
      - deliver: { connector: sink }
`;

// Workers off: these tests are about what is accepted and stored, not delivered.
const start = (t: TestContext) => startTestEngine(t, CONFIG, { workers: false });

function assertProblem(res: { statusCode: number; headers: Record<string, unknown>; json(): unknown }, status: number, code: string, detail: RegExp): void {
  assert.equal(res.statusCode, status);
  assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
  const body = res.json() as Record<string, unknown>;
  assert.equal(body.status, status);
  assert.equal(body.code, code);
  assert.equal(body.type, `urn:junction:error:${code}`);
  assert.match(String(body.detail), detail);
  assert.equal(typeof body.title, 'string');
}

describe('HTTP trigger', () => {
  it('stores the message with its headers (never credentials) and answers 202 with its id', async (t) => {
    const engine = await start(t);
    const res = await engine.app.inject({
      method: 'POST',
      url: '/hooks/orders',
      headers: { 'content-type': 'application/json; charset=utf-8', authorization: 'Bearer s3cr3t', 'x-auth-token': 't0k', 'x-trace': 'abc' },
      payload: { id: 1 },
    });
    assert.equal(res.statusCode, 202);
    const { id, duplicate } = res.json() as { id: string; duplicate: boolean };
    assert.equal(duplicate, false);
    const rec = await engine.store.getMessage(id);
    assert.deepEqual(rec?.body, { id: 1 });
    assert.equal(rec?.state, 'queued');
    assert.equal(rec?.headers['x-trace'], 'abc');
    assert.equal(rec?.headers.authorization, undefined);
    assert.equal(rec?.headers['x-auth-token'], undefined, 'every credential header the logs redact is dropped');
  });

  it('accepts a key seen before once: the same id, nothing new created', async (t) => {
    const engine = await start(t);
    const send = () =>
      engine.app.inject({ method: 'POST', url: '/hooks/orders', headers: { 'idempotency-key': 'k-1' }, payload: { id: 1 } });
    const first = (await send()).json() as { id: string };
    const again = await send();
    assert.equal(again.statusCode, 202);
    assert.deepEqual(again.json(), { id: first.id, duplicate: true });
    assert.equal(again.headers['idempotent-replayed'], 'true');
    assert.equal(await storedCount(engine), 1);
  });

  it('dedupes concurrent posts of one key to a single message', async (t) => {
    const engine = await start(t);
    const results = await Promise.all(
      Array.from({ length: 20 }, () => engine.post('/hooks/orders', { id: 1 }, { 'idempotency-key': 'same' })),
    );
    assert.equal(new Set(results.map((r) => r.json.id)).size, 1);
    assert.equal(await storedCount(engine), 1);
  });

  it('takes the dedupe key from the trigger expression, and refuses a request it yields nothing for', async (t) => {
    const engine = await start(t);
    const a = await engine.post('/hooks/keyed', { event: { id: 'e1' } }, { 'webhook-id': 'w1' });
    const b = await engine.post('/hooks/keyed', { event: { id: 'e1' } }, { 'webhook-id': 'w1' });
    assert.equal(a.status, 202);
    assert.equal(b.json.id, a.json.id);
    assert.equal((await engine.store.getMessage(a.json.id as string))?.idempotencyKey, 'w1');
    const res = await engine.app.inject({ method: 'POST', url: '/hooks/keyed', headers: { 'idempotency-key': 'ignored' }, payload: { other: true } });
    assertProblem(res, 400, 'JNC_INPUT_IDEMPOTENCY_KEY', /yielded/);
    assert.equal(await storedCount(engine), 1);
  });

  it('refuses malformed JSON with 400 and the parser position', async (t) => {
    const engine = await start(t);
    const res = await engine.app.inject({ method: 'POST', url: '/hooks/orders', headers: { 'content-type': 'application/json' }, payload: '{"id": 1,' });
    assertProblem(res, 400, 'JNC_INPUT_MALFORMED', /not valid JSON/);
    assert.equal(await storedCount(engine), 0);
  });

  it('refuses a content type other than JSON with 415', async (t) => {
    const engine = await start(t);
    const res = await engine.app.inject({ method: 'POST', url: '/hooks/orders', headers: { 'content-type': 'text/plain' }, payload: 'hello' });
    assertProblem(res, 415, 'JNC_INPUT_UNSUPPORTED_TYPE', /text\/plain/);
    assert.equal(await storedCount(engine), 0);
  });

  it('keeps an XML or CSV body as text with its content type where the trigger accepts it', async (t) => {
    const engine = await start(t);
    const xml = '<order id="7"><total>25</total></order>';
    const res = await engine.app.inject({ method: 'POST', url: '/hooks/xml', headers: { 'content-type': 'text/xml; charset=utf-8' }, payload: xml });
    assert.equal(res.statusCode, 202);
    const rec = await engine.store.getMessage((res.json() as { id: string }).id);
    assert.equal(rec?.body, xml);
    assert.equal(rec?.headers['content-type'], 'text/xml; charset=utf-8');
    const csv = await engine.app.inject({ method: 'POST', url: '/hooks/xml', headers: { 'content-type': 'text/csv' }, payload: 'a,b\n1,2\n' });
    assert.equal(csv.statusCode, 202);
  });

  it('refuses XML on a JSON-only trigger with 415, naming what it accepts', async (t) => {
    const engine = await start(t);
    const res = await engine.app.inject({ method: 'POST', url: '/hooks/orders', headers: { 'content-type': 'application/xml' }, payload: '<a/>' });
    assertProblem(res, 415, 'JNC_INPUT_UNSUPPORTED_TYPE', /"application\/xml" is not accepted here; send application\/json/);
    const other = await engine.app.inject({ method: 'POST', url: '/hooks/xml', headers: { 'content-type': 'image/png' }, payload: 'x' });
    assertProblem(other, 415, 'JNC_INPUT_UNSUPPORTED_TYPE', /send application\/json or application\/xml or text\/csv/);
    assert.equal(await storedCount(engine), 0);
  });

  it('accepts +json media types such as application/cloudevents+json', async (t) => {
    const engine = await start(t);
    const res = await engine.app.inject({ method: 'POST', url: '/hooks/orders', headers: { 'content-type': 'application/cloudevents+json' }, payload: '{"id":2}' });
    assert.equal(res.statusCode, 202);
  });

  it('refuses a body over the server limit and over the trigger limit with 413', async (t) => {
    const engine = await start(t);
    const big = JSON.stringify({ pad: 'x'.repeat(3000) });
    assertProblem(await engine.app.inject({ method: 'POST', url: '/hooks/orders', headers: { 'content-type': 'application/json' }, payload: big }), 413, 'JNC_INPUT_TOO_LARGE', /2048 bytes/);
    const medium = JSON.stringify({ pad: 'x'.repeat(100) });
    assertProblem(await engine.app.inject({ method: 'POST', url: '/hooks/small', headers: { 'content-type': 'application/json' }, payload: medium }), 413, 'JNC_INPUT_TOO_LARGE', /64 bytes/);
    assert.equal(await storedCount(engine), 0);
  });

  it('answers an unknown path with 404 and a wrong method with 405 and Allow', async (t) => {
    const engine = await start(t);
    assertProblem(await engine.app.inject({ method: 'POST', url: '/hooks/nope', payload: {} }), 404, 'JNC_NOT_FOUND', /\/hooks\/nope/);
    const res = await engine.app.inject({ method: 'GET', url: '/hooks/orders' });
    assertProblem(res, 405, 'JNC_METHOD_NOT_ALLOWED', /use POST/);
    assert.equal(res.headers.allow, 'POST');
  });

  it('refuses an idempotency key longer than 255 characters', async (t) => {
    const engine = await start(t);
    const res = await engine.app.inject({ method: 'POST', url: '/hooks/orders', headers: { 'idempotency-key': 'k'.repeat(256) }, payload: {} });
    assertProblem(res, 400, 'JNC_INPUT_IDEMPOTENCY_KEY', /255/);
  });
});

describe('health and readiness', () => {
  it('/healthz answers while the process is up; /readyz only while workers run and the store answers', async (t) => {
    const noWorkers = await startTestEngine(t, CONFIG, { workers: false });
    assert.equal((await noWorkers.app.inject({ url: '/healthz' })).statusCode, 200);
    assert.equal((await noWorkers.app.inject({ url: '/readyz' })).statusCode, 200, 'an ingest-only node is ready');

    const engine = await startTestEngine(t, CONFIG);
    assert.deepEqual((await engine.app.inject({ url: '/readyz' })).json(), { status: 'ready' });
    await engine.worker.stop();
    assertProblem(await engine.app.inject({ url: '/readyz' }), 503, 'JNC_UNAVAILABLE', /workers/);
  });
});
