/**
 * Property: whatever bytes, content type and size a sender throws at an HTTP
 * trigger, the answer is a 202 whose message is in the store, or a 4xx problem
 * and nothing stored. Never a 5xx, and the server is still up afterwards.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { mediaKind } from '../../src/core/media.ts';
import { xmlSyntaxError } from '../../src/steps/convert/xml.ts';
import { startIngressEngine, storedCount } from '../helpers/ingress.ts';

const FLOWS = `
  json:
    trigger: { http: { path: /hooks/json } }
    steps: [ { deliver: { connector: sink } } ]
  xml:
    trigger: { http: { path: /hooks/xml, accept: [xml] } }
    steps: [ { deliver: { connector: sink } } ]
  csv:
    trigger: { http: { path: /hooks/csv, accept: [csv, text], maxBodyBytes: 512 } }
    steps: [ { deliver: { connector: sink } } ]
  mixed:
    trigger: { http: { path: /hooks/mixed/, accept: [json, xml, csv, text], idempotencyKey: "$headers.'x-key'" } }
    steps: [ { deliver: { connector: sink } } ]
  records:
    trigger: { http: { path: /hooks/records, records: { format: csv, maxBodyBytes: 1024 } } }
    steps: [ { deliver: { connector: sink } } ]
`;

const PATHS = ['/hooks/json', '/hooks/xml', '/hooks/csv', '/hooks/mixed', '/hooks/mixed/', '/hooks/records', '/hooks/json/?page=1&token=t'];

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/cloudevents+json',
  'application/xml',
  'text/xml; charset=utf-8',
  'application/soap+xml',
  'text/csv',
  'text/csv; charset=utf-8',
  'text/plain',
  'image/png',
  'multipart/form-data; boundary=x',
  'application/x-www-form-urlencoded',
  'application/json; charset=utf-16',
  ';',
  '',
];

/** Text that is nearly a document of some kind: the interesting bodies are the almost-right ones. */
const XML_PIECES = ['<?xml version="1.0"?>', '<Order>', '</Order>', '<a id="1">', '</a>', '<b/>', 'text', '&amp;', '&bad;', '<![CDATA[x]]>', '<!-- c -->', '<', '>', '"', '\n'];
const CSV_PIECES = ['id,name', '\n', '1,Ada', '"quoted, comma"', '"unclosed', ',', '\r\n', '\uFEFF', ';'];
const JSON_PIECES = ['{', '}', '[', ']', '"k"', ':', '1', ',', 'null', '"\\u0000"', ' '];

const pieces = (from: string[]) => fc.array(fc.constantFrom(...from), { maxLength: 30 }).map((a) => a.join(''));

const body = fc.oneof(
  fc.uint8Array({ maxLength: 400 }).map((b) => Buffer.from(b)),
  fc.string({ maxLength: 200 }),
  fc.json({ maxDepth: 3 }),
  pieces(XML_PIECES),
  pieces(CSV_PIECES),
  pieces(JSON_PIECES),
  // Sizes around the limits (512 and 1024 bytes on two triggers).
  fc.tuple(fc.constantFrom('a', 'id\n1', '<a>x</a>', '{"p":"x"}'), fc.integer({ min: 0, max: 1200 })).map(([s, n]) => s + ' '.repeat(n)),
);

/** A body of the kind its content type says, mostly well-formed: these are the ones that get as far as the store. */
const word = fc.stringMatching(/^[a-z0-9 ]{0,6}$/);
const matched = fc.oneof(
  fc.record({ contentType: fc.constantFrom('application/json', 'application/cloudevents+json'), body: fc.json({ maxDepth: 3 }) }),
  fc.record({
    contentType: fc.constantFrom('application/xml', 'text/xml; charset=utf-8', 'application/soap+xml'),
    body: fc.oneof(
      fc.tuple(fc.constantFrom('Order', 'a', 'ns:Item'), fc.array(fc.tuple(fc.constantFrom('b', 'c'), word))).map(
        ([root, kids]) => `<${root}>${kids.map(([k, v]) => `<${k}>${v}</${k}>`).join('')}</${root}>`,
      ),
      pieces(XML_PIECES),
    ),
  }),
  fc.record({
    contentType: fc.constantFrom('text/csv', 'text/csv; charset=utf-8', 'text/plain'),
    body: fc.oneof(fc.array(fc.array(word, { minLength: 2, maxLength: 2 }), { maxLength: 20 }).map((rows) => ['id,name', ...rows.map((r) => r.join(','))].join('\n')), pieces(CSV_PIECES)),
  }),
);
const anyType = fc.oneof({ arbitrary: fc.constantFrom(...CONTENT_TYPES), weight: 4 }, { arbitrary: fc.stringMatching(/^[\x21-\x7e]{0,40}$/), weight: 1 });
const unmatched = fc.record({ contentType: fc.option(anyType, { nil: undefined, freq: 10 }), body });

const request = fc
  .tuple(
    fc.constantFrom(...PATHS),
    fc.oneof({ arbitrary: matched, weight: 2 }, { arbitrary: unmatched, weight: 1 }),
    fc.option(fc.constantFrom('k-1', 'k-2', '', 'x'.repeat(300)), { nil: undefined, freq: 3 }),
  )
  .map(([url, { contentType, body }, key]) => ({ url, contentType, body, key }));

describe('HTTP trigger, any input', () => {
  it('answers 202 with the message stored, or a 4xx problem with nothing stored; never a 5xx', async (t) => {
    const engine = await startIngressEngine(t, FLOWS);
    await fc.assert(
      fc.asyncProperty(request, async ({ url, contentType, body, key }) => {
        const before = await storedCount(engine);
        const headers: Record<string, string> = {};
        if (contentType !== undefined) headers['content-type'] = contentType;
        if (key !== undefined) Object.assign(headers, { 'idempotency-key': key, 'x-key': key });
        const res = await engine.app.inject({ method: 'POST', url, headers, payload: body });
        const added = (await storedCount(engine)) - before;
        const what = `${res.statusCode} ${res.body}`;

        assert.ok(res.statusCode < 500, what);
        if (res.statusCode === 202) {
          const answer = res.json() as { id?: string; duplicate?: boolean; created?: number };
          if (url === '/hooks/records') {
            assert.equal(added, answer.created, what);
            return;
          }
          const stored = await engine.store.getMessage(answer.id!);
          assert.ok(stored, what);
          assert.equal(added, answer.duplicate ? 0 : 1, what);
          // Only well-formed XML is stored as XML (a duplicate's stored message is the first one's).
          if (mediaKind(stored.headers['content-type']) === 'xml') assert.equal(xmlSyntaxError(String(stored.body), { oneRoot: true }), undefined, what);
          return;
        }
        assert.ok(res.statusCode >= 400, what);
        assert.match(String(res.headers['content-type']), /^application\/problem\+json/, what);
        const problem = res.json() as { code: string; status: number; stored?: number };
        assert.match(problem.code, /^JNC_[A-Z_]+$/, what);
        assert.equal(problem.status, res.statusCode, what);
        // A streamed upload keeps the chunks committed before its mistake, and says how many.
        assert.equal(added, problem.stored ?? 0, what);
      }),
      { numRuns: 300, interruptAfterTimeLimit: 8_000 },
    );
    assert.equal((await engine.app.inject({ url: '/healthz' })).statusCode, 200);
  });
});
