/**
 * Bodies keep their kind. A `call` answer in text/html is HTML text under its own
 * content type, not a JSON string: deliver sends it as text/html, and a step that
 * reads JSON (map, validate, filter, split, enrich, respond's body) fails it with
 * a permanent JNC_BODY_NOT_JSON naming the step and the content type. XML still
 * converts. Against a real loopback server.
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { bodyKind } from '../../src/core/media.ts';
import type { Json, Message } from '../../src/core/message.ts';
import { enrichOptions, enrichStep } from '../../src/steps/enrich.ts';
import { filterOptions, filterStep } from '../../src/steps/filter.ts';
import { mapOptions, mapStep } from '../../src/steps/map.ts';
import { respondOptions, respondStep } from '../../src/steps/respond.ts';
import { validateOptions, validateStep } from '../../src/steps/validate.ts';
import type { Step, StepContext } from '../../src/steps/step.ts';
import { testRestConnector } from '../helpers/connector.ts';
import { startTestEngine } from '../helpers/engine.ts';
import { startRecorder } from '../helpers/servers.ts';
import { startTestSink } from '../helpers/sink.ts';
import { message, stepContext, stepDeps } from '../helpers/step.ts';

const HTML = '<!doctype html><html><body>Maintenance</body></html>';

/** A loopback system that answers /page in text/html and /order in XML. */
function startPages(t: TestContext) {
  return startRecorder(t, (req, res) => {
    if (req.url === '/order') res.writeHead(200, { 'content-type': 'application/xml' }).end('<order><id>A-1</id><total>5</total></order>');
    else res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(HTML);
  });
}

describe('body kinds', () => {
  it('reads a content type: JSON types and none are JSON; a string under any other type is text', () => {
    const kind = (body: Json, contentType?: string) => bodyKind({ body, headers: contentType === undefined ? {} : { 'content-type': contentType } });
    assert.equal(kind('x'), 'json');
    assert.equal(kind('x', 'application/json; charset=utf-8'), 'json');
    assert.equal(kind('x', 'application/problem+json'), 'json');
    assert.equal(kind('<a/>', 'application/xml'), 'xml');
    assert.equal(kind('<a/>', 'application/atom+xml'), 'xml');
    assert.equal(kind('a,b', 'text/csv'), 'csv');
    assert.equal(kind('hi', 'text/plain'), 'text');
    assert.equal(kind(HTML, 'text/html'), 'text');
    assert.equal(kind('AAA=', 'application/octet-stream'), 'text');
    // A record parsed from a CSV upload is an object that still carries the upload's header.
    assert.equal(kind({ sku: 'A-1' } as Json, 'text/csv'), 'json');
  });

  it('in a flow: an HTML answer goes on as text/html, and a map after it dead-letters the message naming the step and the type', async (t) => {
    const pages = await startPages(t);
    const sink = await startTestSink(t);
    const engine = await startTestEngine(
      t,
      `
store: sqlite:./junction.db
worker: { pollMs: 20 }
connectors:
  pages: { type: rest, baseUrl: "${pages.url}" }
  sink: { type: rest, baseUrl: "${sink.url}" }
flows:
  forward:
    trigger: { http: { path: /forward } }
    steps:
      - call: { connector: pages, request: { method: GET, path: /page } }
      - deliver: { connector: sink, request: { path: /html } }
  mapped:
    trigger: { http: { path: /mapped } }
    steps:
      - call: { connector: pages, request: { method: GET, path: /page } }
      - map: { title: title }
      - deliver: { connector: sink, request: { path: /mapped } }
  converted:
    trigger: { http: { path: /converted } }
    steps:
      - call: { connector: pages, request: { method: GET, path: /order } }
      - convert: { to: json }
      - map: { orderId: id, total: $number(total) }
      - deliver: { connector: sink, request: { path: /converted } }
`,
    );
    const forward = (await engine.post('/forward', { a: 1 })).json.id as string;
    const mapped = (await engine.post('/mapped', { a: 2 })).json.id as string;
    const converted = (await engine.post('/converted', { a: 3 })).json.id as string;
    const state = async (id: string) => (await engine.store.getMessage(id))?.state;
    await engine.until(async () => (await state(forward)) === 'done' && (await state(mapped)) === 'dead' && (await state(converted)) === 'done');

    const html = sink.requests.find((r) => r.url === '/html')!;
    assert.equal(html.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(html.body, HTML, 'the page as it came, not a JSON string');
    assert.equal(sink.requests.some((r) => r.url === '/mapped'), false, 'never sent');
    const dl = await engine.store.deadLetters.get(mapped);
    assert.equal(dl?.history.length, 1, 'dead at once, not retried');
    assert.equal(dl?.reason[0], 'JNC_BODY_NOT_JSON: Step mapped[1].map needs a JSON body; this one is text (content-type text/html; charset=utf-8)');
    assert.deepEqual(JSON.parse(sink.requests.find((r) => r.url === '/converted')!.body), { orderId: 'A-1', total: 5 });
  });

  describe('every step that reads JSON refuses text, naming itself and the content type', () => {
    const page: Message = message(HTML, { headers: { 'content-type': 'text/html' } });
    const waiting: StepContext = { ...stepContext(), respond: () => assert.fail('answered with a text body read as JSON') };

    async function refuses(step: Step, where: string, ctx: StepContext = stepContext()) {
      await assert.rejects(step(page, ctx), (e: unknown) => {
        const err = e as { code?: string; message?: string; retryable?: boolean };
        assert.equal(err.code, 'JNC_BODY_NOT_JSON');
        assert.equal(err.retryable, false);
        assert.equal(err.message, `Step ${where} needs a JSON body; this one is text (content-type text/html)`);
        return true;
      });
    }

    it('map', async () => refuses(await mapStep.create(mapOptions.parse({ id: 'id' }), stepDeps()), 'orders[0].map'));
    it('filter: a dead letter, never a silent drop', async () =>
      refuses(await filterStep.create(filterOptions.parse("status = 'paid'"), stepDeps({ index: 1 })), 'orders[1].filter'));
    it('validate', async () =>
      refuses(await validateStep.create(validateOptions.parse({ schema: { type: 'object' } }), stepDeps({ index: 2 })), 'orders[2].validate'));
    it('respond with a body expression', async () =>
      refuses(await respondStep.create(respondOptions.parse({ body: 'title' }), stepDeps({ index: 3 })), 'orders[3].respond', waiting));
    it('enrich, before spending a request', async (t) => {
      const pages = await startPages(t);
      const connector = testRestConnector(t, 'pages', { baseUrl: pages.url });
      const step = await enrichStep.create(enrichOptions.parse({ connector: 'pages', request: { path: '/page' }, into: 'page' }), stepDeps({ index: 4, connector: () => connector }));
      await refuses(step, 'orders[4].enrich');
      assert.equal(pages.seen.length, 0);
    });
  });
});
