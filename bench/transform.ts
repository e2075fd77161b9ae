/**
 * @module bench/transform
 * Messages per second through validate, map and each conversion, each against
 * calling the same library directly, in the same process and the same run. What
 * is reported is the step's overhead over the bare call: the step interface (an
 * async call per message, the message copy, the content-type header) and what the
 * step checks beyond the library (convert validates the XML it builds).
 *
 * Bare and step rounds alternate, and the median of each is kept, so a slow
 * moment of the machine does not land on one side only.
 *
 *   node bench/transform.ts [--rounds 7] [--json]
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { parse as parseCsv } from 'csv-parse/sync';
import { stringify as stringifyCsv } from 'csv-stringify/sync';
import XMLBuilder from 'fast-xml-builder';
import { XMLParser } from 'fast-xml-parser';
import { SyntaxValidator } from 'fast-xml-validator';
import jsonata from 'jsonata';
import { systemClock } from '../src/core/clock.ts';
import type { Json, Message } from '../src/core/message.ts';
import { silentLogger } from '../src/observability/logger.ts';
import { convertOptions, convertStep } from '../src/steps/convert/index.ts';
import { mapOptions, mapStep } from '../src/steps/map.ts';
import type { Step, StepContext, StepDeps } from '../src/steps/step.ts';
import { validateOptions, validateStep } from '../src/steps/validate.ts';

export interface TransformRow {
  name: string;
  /** Messages per second, median of the rounds. */
  bare: number;
  step: number;
  /** step time over bare time, minus one: 0.05 is 5 % slower. */
  overhead: number;
  note: string;
}

const ORDER = {
  id: 'A-1001',
  customer: { email: 'Ada@Example.com', name: 'Ada Lovelace' },
  createdAt: '2026-11-24T09:00:00Z',
  items: Array.from({ length: 5 }, (_, i) => ({ sku: `SKU-${i}`, qty: i + 1, price: 9.5 + i })),
};

const SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  required: ['id', 'customer', 'items'],
  properties: {
    id: { type: 'string', minLength: 1 },
    customer: { type: 'object', required: ['email'], properties: { email: { type: 'string', format: 'email' } } },
    createdAt: { type: 'string', format: 'date-time' },
    items: {
      type: 'array',
      minItems: 1,
      items: { type: 'object', required: ['sku', 'qty', 'price'], properties: { sku: { type: 'string' }, qty: { type: 'integer', minimum: 1 }, price: { type: 'number' } } },
    },
  },
};

const MAP = { orderId: 'id', email: '$lowercase(customer.email)', total: '$sum(items.(price * qty))', lines: '$count(items)' };

const XML_OPTIONS = { root: 'Order', arrays: ['Order.items'] };
const CSV_ROWS = Array.from({ length: 20 }, (_, i) => ({ sku: `SKU-${i}`, qty: String(i + 1), price: (9.5 + i).toFixed(2), note: i % 3 === 0 ? 'fragile, "handle" with care' : '' }));

const ctx: StepContext = { signal: new AbortController().signal, logger: silentLogger, clock: systemClock };
const deps: StepDeps = {
  flow: 'bench',
  index: 0,
  baseDir: process.cwd(),
  connector: () => {
    throw new Error('no connectors in this benchmark');
  },
};

function message(body: Json, contentType = 'application/json'): Message {
  return { id: 'm', flow: 'bench', attempt: 1, idempotencyKey: 'k', body, headers: { 'content-type': contentType }, meta: {} };
}

interface Case {
  name: string;
  note: string;
  /** Messages per round. */
  n: number;
  bare(): unknown;
  step: Step;
  input: Message;
}

async function cases(): Promise<Case[]> {
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  addFormats.default(ajv);
  const check = ajv.compile(SCHEMA);
  const exprs = Object.entries(MAP).map(([k, v]) => [k, jsonata(v)] as const);

  const xmlBuilder = new XMLBuilder({ attributeNamePrefix: '@', ignoreAttributes: false, textNodeName: '#text', format: false, suppressEmptyNode: true });
  const xmlParser = new XMLParser({ attributeNamePrefix: '@', ignoreAttributes: false, textNodeName: '#text', parseTagValue: false, parseAttributeValue: false, isArray: (_n, path) => path === 'Order.items' });
  const declaration = '<?xml version="1.0" encoding="UTF-8"?>\n';
  const xmlText = declaration + xmlBuilder.build({ Order: ORDER });
  // The options the step passes, so that both sides do the same work.
  const csvColumns = Object.keys(CSV_ROWS[0]!);
  const csvWrite = { header: true, delimiter: ',', quote: '"', escape: '"', bom: false, record_delimiter: 'unix', cast: { boolean: (v: boolean) => (v ? 'true' : 'false') } } as const;
  const csvRead = { delimiter: ',', quote: '"', escape: '"', bom: true, skip_empty_lines: true, columns: true } as const;
  const csvText = stringifyCsv(CSV_ROWS, { ...csvWrite, columns: csvColumns });

  const create = async <O>(def: { create(o: O, d: StepDeps): Step | Promise<Step> }, options: O): Promise<Step> => def.create(options, deps);

  return [
    {
      name: 'validate (JSON Schema 2020-12, formats)',
      note: 'ajv: compiled validate(body)',
      n: 50_000,
      bare: () => check(ORDER),
      step: await create(validateStep, validateOptions.parse({ schema: SCHEMA })),
      input: message(ORDER as unknown as Json),
    },
    {
      name: 'map (4 JSONata fields)',
      note: 'jsonata: evaluate each compiled expression, build the object',
      n: 20_000,
      async bare() {
        const out: Record<string, unknown> = {};
        for (const [k, e] of exprs) out[k] = await e.evaluate(ORDER);
        return out;
      },
      step: await create(mapStep, mapOptions.parse(MAP)),
      input: message(ORDER as unknown as Json),
    },
    {
      name: 'convert json → xml',
      note: 'fast-xml-builder: build (the step also checks every key is an XML name)',
      n: 20_000,
      bare: () => declaration + xmlBuilder.build({ Order: ORDER }),
      step: await create(convertStep, convertOptions.parse({ to: 'xml', xml: XML_OPTIONS })),
      input: message(ORDER as unknown as Json),
    },
    {
      name: 'convert xml → json',
      note: 'fast-xml-validator: SyntaxValidator.validate + fast-xml-parser: XMLParser.parse',
      n: 20_000,
      bare: () => SyntaxValidator.validate(xmlText, { multipleRoots: true }) === true && xmlParser.parse(xmlText),
      step: await create(convertStep, convertOptions.parse({ to: 'json', xml: XML_OPTIONS })),
      input: message(xmlText, 'application/xml'),
    },
    {
      name: 'convert json → csv (20 rows)',
      note: 'csv-stringify/sync with a header',
      n: 10_000,
      bare: () => stringifyCsv(CSV_ROWS, { ...csvWrite, columns: csvColumns }),
      step: await create(convertStep, convertOptions.parse({ to: 'csv' })),
      input: message(CSV_ROWS as unknown as Json),
    },
    {
      name: 'convert csv → json (20 rows)',
      note: 'csv-parse/sync with columns from the header',
      n: 10_000,
      bare: () => parseCsv(csvText, csvRead),
      step: await create(convertStep, convertOptions.parse({ to: 'json' })),
      input: message(csvText, 'text/csv'),
    },
  ];
}

async function timeBare(c: Case): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < c.n; i++) await c.bare();
  return c.n / ((performance.now() - t0) / 1000);
}

async function timeStep(c: Case): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < c.n; i++) await c.step(c.input, ctx);
  return c.n / ((performance.now() - t0) / 1000);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

export async function runTransform(rounds = 7): Promise<TransformRow[]> {
  const rows: TransformRow[] = [];
  for (const c of await cases()) {
    // The step must do the same work as the bare call; a failing one would measure an error path.
    await c.step(c.input, ctx);
    await timeBare(c);
    await timeStep(c);
    const bare: number[] = [];
    const step: number[] = [];
    for (let r = 0; r < rounds; r++) {
      bare.push(await timeBare(c));
      step.push(await timeStep(c));
    }
    const b = median(bare);
    const s = median(step);
    rows.push({ name: c.name, bare: b, step: s, overhead: b / s - 1, note: c.note });
  }
  return rows;
}

export function transformTable(rows: TransformRow[]): string {
  const lines = ['| transform | bare library (msg/s) | step (msg/s) | step overhead | bare call |', '|---|---:|---:|---:|---|'];
  for (const r of rows) {
    lines.push(`| ${r.name} | ${Math.round(r.bare)} | ${Math.round(r.step)} | ${(r.overhead * 100).toFixed(1)} % | ${r.note} |`);
  }
  return lines.join('\n');
}

if (import.meta.main) {
  const i = process.argv.indexOf('--rounds');
  const rows = await runTransform(i > 0 ? Number(process.argv[i + 1]) : 7);
  if (process.argv.includes('--json')) console.log(JSON.stringify(rows));
  else console.log(transformTable(rows));
}
