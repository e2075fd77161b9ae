/**
 * The convert step: golden files both ways (JSON ↔ XML, JSON ↔ CSV, XML ↔ CSV),
 * round trips that keep the data, and bad input that becomes a clear permanent
 * error naming the line. `UPDATE_GOLDEN=1` rewrites the golden files from the
 * step's output (review the diff before committing).
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { JunctionError } from '../../src/core/errors.ts';
import type { Json, Message } from '../../src/core/message.ts';
import { convertStep } from '../../src/steps/convert/index.ts';
import { convertOptions } from '../../src/steps/convert/options.ts';
import type { StepContext } from '../../src/steps/step.ts';
import { junctionRejection } from '../helpers/rejection.ts';

const FIXTURES = new URL('../fixtures/convert/', import.meta.url);
const UPDATE = process.env.UPDATE_GOLDEN === '1';

async function converter(options: unknown): Promise<(body: Json, contentType?: string) => Promise<Message>> {
  const step = await convertStep.create(convertOptions.parse(options), {
    flow: 'f',
    index: 2,
    baseDir: '.',
    connector: () => assert.fail('convert uses no connector'),
  });
  return async (body, contentType) => {
    const msg: Message = { id: 'm1', flow: 'f', attempt: 1, idempotencyKey: 'k1', body, headers: contentType ? { 'content-type': contentType } : {}, meta: {} };
    const out = await step(msg, {} as StepContext);
    assert.ok(!Array.isArray(out) && typeof out === 'object' && 'body' in out, 'convert returns one message');
    return out as Message;
  };
}

async function convert(options: unknown, body: Json, contentType?: string): Promise<Message> {
  return (await converter(options))(body, contentType);
}

/** Resolves to the JunctionError the conversion throws. */
async function failure(options: unknown, body: Json, contentType?: string): Promise<JunctionError> {
  const e = await junctionRejection(convert(options, body, contentType), 'expected the conversion to throw');
  assert.equal(e.retryable, false, 'a body that cannot be converted will not convert on a retry either');
  return e;
}

const fixture = (name: string): string => readFileSync(new URL(name, FIXTURES), 'utf8').replace(/\r\n/g, '\n');
const asText = (body: Json): string => (typeof body === 'string' ? body : `${JSON.stringify(body, null, 2)}\n`);

const ORDER_XML = { arrays: ['ns:Order.ns:Items.ns:Item'] };
const ORDERS_CSV = { types: { qty: 'integer', price: 'number', paid: 'boolean' } };

describe('convert: golden files', () => {
  const cases = [
    { from: 'order.xml', to: 'order.json', options: { to: 'json', xml: ORDER_XML }, says: 'attributes, xmlns, ns: prefixes, a one-item array, 007 and 02 kept, unicode, entities' },
    { from: 'order.json', to: 'order.xml', options: { to: 'xml', xml: { ...ORDER_XML, root: 'ns:Order', pretty: true } }, says: 'the same document back, attributes in their tags' },
    { from: 'orders.csv', to: 'orders.json', options: { to: 'json', csv: ORDERS_CSV }, says: 'typed columns; commas, doubled quotes and a newline inside quoted fields' },
    { from: 'orders.json', to: 'orders.csv', options: { to: 'csv', csv: ORDERS_CSV }, says: 'quoted only where needed, header from the keys' },
    { from: 'orders.csv', to: 'orders.xml', options: { to: 'xml', xml: { pretty: true }, csv: { records: 'Orders.Order' } }, says: 'rows become repeated elements under the records path' },
    { from: 'orders.xml', to: 'orders.csv', options: { to: 'csv', csv: { records: 'Orders.Order' } }, says: 'repeated elements become rows; the same records path' },
  ] as const;
  const contentTypes = { json: 'application/json', xml: 'application/xml', csv: 'text/csv' } as const;

  for (const c of cases) {
    const kind = (file: string) => file.split('.').at(-1) as keyof typeof contentTypes;
    it(`${c.from} → ${c.to}: ${c.says}`, async () => {
      const input = fixture(c.from);
      const out = await convert(c.options, kind(c.from) === 'json' ? (JSON.parse(input) as Json) : input, contentTypes[kind(c.from)]);
      assert.equal(out.headers['content-type'], contentTypes[kind(c.to)], 'the content type follows the body');
      if (UPDATE) writeFileSync(new URL(c.to, FIXTURES), asText(out.body));
      assert.equal(asText(out.body), fixture(c.to));
    });
  }
});

describe('convert: round trips keep the data', () => {
  it('json → xml → json deep-equals the original (strings, attributes, namespaces, one- and many-item arrays, unicode)', async () => {
    const original: Json = {
      '@xmlns:inv': 'urn:example:inventory',
      '@ref': 'R&D "42" <draft>',
      'inv:Warehouse': { '@code': '007', name: 'Łódź — 倉庫', bins: { bin: ['A1'] } },
      line: [
        { sku: '0042', qty: '3', price: { '@currency': 'EUR', '#text': '9.90' } },
        { sku: '0043', qty: '1', note: "it's \"fine\" & <ok>", price: { '@currency': 'USD', '#text': '10' } },
      ],
      empty: '',
    };
    const xml = { root: 'inv:Stock', arrays: ['inv:Stock.inv:Warehouse.bins.bin', 'inv:Stock.line'] };
    const asXml = await convert({ to: 'xml', xml }, original);
    assert.equal(typeof asXml.body, 'string');
    const back = await convert({ to: 'json', xml }, asXml.body, asXml.headers['content-type']);
    assert.deepEqual(back.body, original);
  });

  it('json → xml → json with numbers: true keeps numbers as numbers and 007 as a string', async () => {
    const original: Json = { '@id': 12, total: 25.5, lines: { line: [{ sku: '007', qty: 2 }, { sku: '-08', qty: -1 }] }, code: '0x1F' };
    const xml = { root: 'order', numbers: true };
    const asXml = await convert({ to: 'xml', xml }, original);
    const back = await convert({ to: 'json', xml }, asXml.body, 'application/xml');
    assert.deepEqual(back.body, original);
  });

  it('json → csv → json with types declared deep-equals the original', async () => {
    const rows: Json = [
      { id: '007', name: 'Ängström, "A"', qty: 3, price: 0.1, ok: true, note: 'line 1\nline 2' },
      { id: '0', name: '', qty: -2, price: 1e3, ok: false, note: 'tab\there' },
      { id: '100', name: 'null-ish', qty: null, price: null, ok: null, note: '' },
    ];
    const csv = { types: { qty: 'integer', price: 'number', ok: 'boolean' } };
    const asCsv = await convert({ to: 'csv', csv }, rows);
    const back = await convert({ to: 'json', csv }, asCsv.body, asCsv.headers['content-type']);
    assert.deepEqual(back.body, rows);
  });

  it('json → csv → json with a semicolon, single quotes, CRLF and a BOM', async () => {
    const rows: Json = [{ a: "it's; here", b: 'x' }, { a: 'plain', b: "'quoted'" }];
    const csv = { delimiter: ';', quote: "'", eol: 'crlf', bom: true };
    const asCsv = await convert({ to: 'csv', csv }, rows);
    assert.equal(asCsv.body, "\uFEFFa;b\r\n'it''s; here';x\r\nplain;'''quoted'''\r\n");
    assert.deepEqual((await convert({ to: 'json', csv }, asCsv.body, 'text/csv')).body, rows);
  });
});

describe('convert: XML', () => {
  it('keeps text as strings by default; numbers: true parses decimals only', async () => {
    const doc = '<o id="12" code="007"><a>12.50</a><b>007</b><c>true</c><d>1e5</d><e>-3</e></o>';
    assert.deepEqual((await convert({ to: 'json' }, doc, 'application/xml')).body, { a: '12.50', b: '007', c: 'true', d: '1e5', e: '-3', '@id': '12', '@code': '007' });
    assert.deepEqual((await convert({ to: 'json', xml: { numbers: true } }, doc, 'application/xml')).body, {
      a: 12.5,
      b: '007',
      c: 'true',
      d: '1e5',
      e: -3,
      '@id': 12,
      '@code': '007',
    });
  });

  it('keeps the root with unwrapRoot: false, and reads text/xml and +xml types', async () => {
    const out = await convert({ to: 'json', xml: { unwrapRoot: false } }, '<?xml version="1.0"?><!-- hi --><r><x>1</x></r>', 'application/soap+xml; charset=utf-8');
    assert.deepEqual(out.body, { r: { x: '1' } });
    assert.equal(out.headers['content-type'], 'application/json');
    assert.deepEqual((await convert({ to: 'json' }, '<r><x>1</x></r>', 'text/xml')).body, { x: '1' });
  });

  it('reads a one-item path as an object unless it is listed in arrays', async () => {
    const doc = '<Order><Items><Item>a</Item></Items></Order>';
    assert.deepEqual((await convert({ to: 'json' }, doc, 'application/xml')).body, { Items: { Item: 'a' } });
    assert.deepEqual((await convert({ to: 'json', xml: { arrays: ['Order.Items.Item'] } }, doc, 'application/xml')).body, { Items: { Item: ['a'] } });
  });

  it('builds compact XML with a declaration, from one root key or under xml.root', async () => {
    const out = await convert({ to: 'xml' }, { Order: { '@id': 'A-1', total: 10, paid: true, gift: null } });
    assert.equal(out.body, '<?xml version="1.0" encoding="UTF-8"?>\n<Order id="A-1"><total>10</total><paid>true</paid><gift/></Order>');
    assert.equal(out.headers['content-type'], 'application/xml');
    const rooted = await convert({ to: 'xml', xml: { root: 'Order', declaration: false } }, { Order: 'x' });
    assert.equal(rooted.body, '<Order><Order>x</Order></Order>', 'xml.root always wraps, whatever the body looks like');
  });

  it('builds an array body as xml.item elements under xml.root', async () => {
    const out = await convert({ to: 'xml', xml: { root: 'skus', item: 'sku', declaration: false } }, ['007', '008']);
    assert.equal(out.body, '<skus><sku>007</sku><sku>008</sku></skus>');
  });
});

describe('convert: CSV', () => {
  it('writes the columns listed, in their order, or every key of every row', async () => {
    const rows: Json = [{ b: 1, a: 'x', n: { deep: [1] } }, { c: 'only here', a: 'y' }];
    assert.equal((await convert({ to: 'csv', csv: { columns: ['a', 'c'] } }, rows)).body, 'a,c\nx,\ny,only here\n');
    assert.equal((await convert({ to: 'csv' }, rows)).body, 'b,a,n,c\n1,x,"{""deep"":[1]}",\n,y,,only here\n');
    assert.equal((await convert({ to: 'csv', csv: { header: false, columns: ['a'] } }, rows)).body, 'x\ny\n');
  });

  it('writes one object as one row, and rows found under records', async () => {
    assert.equal((await convert({ to: 'csv' }, { id: '007' })).body, 'id\n007\n');
    const body: Json = { batch: { orders: [{ id: '1' }, { id: '2' }] } };
    assert.equal((await convert({ to: 'csv', csv: { records: 'batch.orders' } }, body)).body, 'id\n1\n2\n');
    assert.equal((await convert({ to: 'csv', csv: { records: 'batch.none', columns: ['id'] } }, body)).body, 'id\n', 'no rows: the header only');
  });

  it('reads without a header using csv.columns, removes a BOM, skips blank lines, types empty as null', async () => {
    const out = await convert({ to: 'json', csv: { header: false, columns: ['id', 'qty'], types: { qty: 'integer' } } }, '\uFEFF007,2\n\n008,\n', 'text/csv');
    assert.deepEqual(out.body, [{ id: '007', qty: 2 }, { id: '008', qty: null }]);
  });

  it('keeps only the columns listed when the header has more, and puts rows under records', async () => {
    const out = await convert({ to: 'json', csv: { columns: ['id'], records: 'import.rows' } }, 'id,secret\n1,x\n', 'text/csv');
    assert.deepEqual(out.body, { import: { rows: [{ id: '1' }] } });
  });

  it('reads a text/plain body when from says what it is', async () => {
    assert.deepEqual((await convert({ to: 'json', from: 'csv' }, 'a\n1\n', 'text/plain')).body, [{ a: '1' }]);
  });
});

describe('convert: a body already of the target kind', () => {
  it('passes through unchanged, keeping a precise content type, once it is checked', async () => {
    const xml = '<a>1</a>';
    const out = await convert({ to: 'xml' }, xml, 'application/xml; charset=utf-8');
    assert.equal(out.body, xml);
    assert.equal(out.headers['content-type'], 'application/xml; charset=utf-8');
    assert.equal((await failure({ to: 'xml' }, '<a>', 'application/xml')).code, 'JNC_CONVERT_XML');
    const json = await convert({ to: 'json' }, { a: 1 });
    assert.deepEqual(json.body, { a: 1 });
    assert.equal(json.headers['content-type'], 'application/json', 'a JSON body without a header gets one');
  });
});

describe('convert: bad input is a permanent error that says where', () => {
  it('XML that is not well-formed: JNC_CONVERT_XML with the line and column', async () => {
    const doc = '<?xml version="1.0"?>\n<Order>\n  <Items>\n    <Item>1</Item>\n</Order>\n';
    const e = await failure({ to: 'json' }, doc, 'application/xml');
    assert.equal(e.code, 'JNC_CONVERT_XML');
    assert.match(e.message, /^Step f\[2\]\.convert: the body is not well-formed XML: line 5, column \d+: .*Items/);
    assert.equal(e.details?.line, 5);
    assert.equal(typeof e.details?.column, 'number');
  });

  it('XML with no root element, or two: JNC_CONVERT_XML', async () => {
    assert.match((await failure({ to: 'json' }, '', 'application/xml')).message, /line 1, column 1: Start tag expected/);
    const two = await failure({ to: 'json' }, '<a/><b/>', 'application/xml');
    assert.equal(two.code, 'JNC_CONVERT_XML');
    assert.match(two.message, /one root element; this one has 2 \(a, b\)/);
    assert.match((await failure({ to: 'json' }, '<a/><a/>', 'application/xml')).message, /this one has 2/);
  });

  it('a CSV row with the wrong number of fields: JNC_CONVERT_CSV with its line and the counts', async () => {
    const csv = 'id,name,qty\n1,"two\nlines",3\n2,short\n';
    const e = await failure({ to: 'json' }, csv, 'text/csv');
    assert.equal(e.code, 'JNC_CONVERT_CSV');
    assert.equal(e.message, 'Step f[2].convert: the body is not valid CSV: line 4: the row has 2 fields, the header 3 fields');
    assert.equal(e.details?.line, 4);
    const more = await failure({ to: 'json', csv: { header: false, columns: ['a'] } }, 'x\ny,z\n', 'text/csv');
    assert.match(more.message, /line 2: the row has 2 fields, the header 1 field$/);
  });

  it('CSV with an unclosed quote: JNC_CONVERT_CSV with the line', async () => {
    const e = await failure({ to: 'json' }, 'a,b\n1,"2\n', 'text/csv');
    assert.equal(e.code, 'JNC_CONVERT_CSV');
    assert.match(e.message, /line 2: Quote Not Closed/);
  });

  it('a value that does not fit its declared type: JNC_CONVERT_CSV naming line, column and value', async () => {
    const csv = { types: { qty: 'integer', price: 'number', ok: 'boolean' } };
    const cases = [
      ['id,qty\n1,2\n2,abc\n', 'line 3, column qty: "abc" is not an integer'],
      ['id,qty\n1,1.5\n', 'line 2, column qty: "1.5" is not an integer'],
      ['price\n12,5\n', 'line 2: the row has 2 fields, the header 1 field'],
      ['price\n"12,5"\n', 'line 2, column price: "12,5" is not a number'],
      ['ok\nyes\n', 'line 2, column ok: "yes" is not a boolean (true or false)'],
    ] as const;
    for (const [body, said] of cases) {
      const e = await failure({ to: 'json', csv }, body, 'text/csv');
      assert.equal(e.code, 'JNC_CONVERT_CSV');
      assert.equal(e.message, `Step f[2].convert: the body is not valid CSV: ${said}`);
    }
  });

  it('a header without a column that csv.columns names: JNC_CONVERT_CSV at line 1', async () => {
    const e = await failure({ to: 'json', csv: { columns: ['id', 'qty'] } }, 'id,name\n1,x\n', 'text/csv');
    assert.match(e.message, /line 1: the header has no column qty \(it has id, name\)/);
  });

  it('a body of the wrong kind, or a shape with no equivalent: JNC_CONVERT_SHAPE', async () => {
    const cases: [unknown, Json, string | undefined, RegExp][] = [
      [{ to: 'xml' }, '<a/>', undefined, /from json to xml: the JSON body is a string; if it holds XML or CSV/],
      [{ to: 'json', from: 'xml' }, { a: 1 }, undefined, /from xml to json: the body is an object with key a, not XML text/],
      [{ to: 'json', from: 'csv' }, [1], 'text/csv', /from csv to json: the body is an array of 1, not CSV text/],
      [{ to: 'json' }, 'hello', 'text/plain', /from text to json: the content-type is text\/plain; set `from`/],
      [{ to: 'xml' }, { a: 1, b: 2 }, undefined, /without xml.root the body must be an object with one key, the root element; it is an object with keys a, b/],
      [{ to: 'xml' }, { '@id': '1' }, undefined, /without xml.root/],
      [{ to: 'xml' }, { Order: [{ id: 1 }, { id: 2 }] }, undefined, /root key Order holds an array/],
      [{ to: 'xml', xml: { root: 'r' } }, { 'first name': 'x' }, undefined, /XML it makes is not well-formed .*valid XML names/],
      [{ to: 'csv' }, [{ a: 1 }, 'b'], undefined, /from json to csv: row 2 is a string, not an object/],
      [{ to: 'csv' }, 42, undefined, /the body is a number, not rows/],
      [{ to: 'csv', csv: { records: 'a.b' } }, { a: 'text' }, undefined, /csv.records a.b: a is a string, not an object with b/],
      [{ to: 'csv' }, '<Orders/>', 'application/xml', /from xml to csv: converting xml to csv needs csv.records/],
    ];
    for (const [options, body, contentType, said] of cases) {
      const e = await failure(options, body, contentType);
      assert.equal(e.code, 'JNC_CONVERT_SHAPE', String(said));
      assert.match(e.message, said);
      assert.match(e.message, /^Step f\[2\]\.convert cannot convert this body/);
    }
  });
});

describe('convert: options', () => {
  const issues = (options: unknown) => {
    const parsed = convertOptions.safeParse(options);
    return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it('has defaults for everything but to', () => {
    const o = convertOptions.parse({ to: 'xml' });
    assert.equal(o.from, undefined);
    assert.deepEqual(o.xml, { item: 'item', unwrapRoot: true, attributePrefix: '@', textKey: '#text', arrays: [], numbers: false, declaration: true, pretty: false });
    assert.deepEqual(o.csv, { header: true, delimiter: ',', quote: '"', types: {}, bom: false, eol: 'lf' });
  });

  it('refuses settings that cannot work, naming the option', () => {
    assert.deepEqual(issues({ to: 'json', csv: { header: false } }), ['csv.columns: csv.header: false needs csv.columns to name the columns']);
    assert.match(issues({ to: 'xml', from: 'csv' })[0]!, /^xml\.root: converting csv to xml needs xml\.root/);
    assert.deepEqual(issues({ to: 'xml', from: 'csv', csv: { records: 'Orders.Order' } }), []);
    assert.match(issues({ to: 'csv', from: 'xml' })[0]!, /^csv\.records: converting xml to csv needs csv\.records/);
    assert.match(issues({ to: 'xml', xml: { root: 'first name' } })[0]!, /^xml\.root: must be an XML element name/);
    assert.match(issues({ to: 'json', xml: { arrays: ['Item'] } })[0]!, /^xml\.arrays\.0: must start at the root element/);
    assert.match(issues({ to: 'json', csv: { types: { qty: 'float' } } })[0]!, /^csv\.types\.qty/);
    assert.match(issues({ to: 'yaml' })[0]!, /^to:/);
    assert.match(issues({ to: 'json', root: 'Order' })[0]!, /Unrecognized key/);
  });

  it('describes every option, for the config reference', () => {
    const schema = JSON.stringify(convertOptions.toJSONSchema());
    const described = (obj: Record<string, unknown>, path: string): void => {
      for (const [key, child] of Object.entries((obj.properties ?? {}) as Record<string, Record<string, unknown>>)) {
        assert.ok(typeof child.description === 'string' && child.description.length > 0, `${path}${key} has a description`);
        described(child, `${path}${key}.`);
      }
    };
    described(JSON.parse(schema) as Record<string, unknown>, '');
  });
});
