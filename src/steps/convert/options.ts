/**
 * @module steps/convert/options
 * The options of the `convert` step: which kinds, and how XML and CSV map to
 * JSON. Every conversion goes through a JSON value, so the XML and CSV rules
 * read the same in every direction.
 */
import { z } from 'zod';

export const CONVERT_KINDS = ['json', 'xml', 'csv'] as const;
export type ConvertKind = (typeof CONVERT_KINDS)[number];

/**
 * An XML name (XML 1.0 §2.3, Namespaces §3), prefixed ones (`ns:Order`) included:
 * the one check for element names in options and for the keys convert writes as tags.
 */
// Checked with refine rather than regex: a Unicode pattern in the JSON Schema would only clutter the config reference.
export const XML_NAME = /^[\p{L}_][\p{L}\p{M}\p{N}._\-\u00B7\u203F\u2040]*(?::[\p{L}_][\p{L}\p{M}\p{N}._\-\u00B7\u203F\u2040]*)?$/u;
const elementName = z.string().refine((s) => XML_NAME.test(s), 'must be an XML element name such as Order or ns:Order');

/** A dot path of keys, e.g. `Orders.Order`. */
const dotPath = z.string().refine((s) => /^[^.\s]+(?:\.[^.\s]+)*$/.test(s), 'must be keys joined by dots, e.g. Orders.Order');

export const xmlOptions = z
  .strictObject({
    root: elementName
      .optional()
      .describe(
        'Root element when building XML: the body becomes its content (an object\'s keys its children and attributes). Without it the body must be an object with exactly one key, which names the root.',
      ),
    item: elementName
      .default('item')
      .describe('Element name for each entry when the body built into XML is an array (under `root`).'),
    unwrapRoot: z
      .boolean()
      .default(true)
      .describe('With `to: json`, the JSON is the root element\'s content (its name dropped); false keeps `{ Root: {…} }`. Going to CSV the root is always kept, so `csv.records` starts at it.'),
    attributePrefix: z
      .string()
      .min(1)
      .default('@')
      .describe('Keys with this prefix are attributes, both ways: `<Order id="7">` ↔ `{ "@id": "7" }`. `xmlns` attributes are kept the same way.'),
    textKey: z
      .string()
      .min(1)
      .default('#text')
      .describe('Key holding an element\'s text when it also has attributes or children: `<Price currency="EUR">9</Price>` ↔ `{ "@currency": "EUR", "#text": "9" }`.'),
    arrays: z
      .array(
        dotPath
          .refine((s) => s.includes('.'), 'must start at the root element, e.g. Order.Items.Item')
          .describe('Path of one repeated element, root element first.'),
      )
      .default([])
      .describe('Element paths from the root element (e.g. `Order.Items.Item`, prefixes kept) that read as arrays even with one element.'),
    numbers: z
      .boolean()
      .default(false)
      .describe('When reading XML, decimal numbers in text and attributes become JSON numbers. Values whose text would change (007, 0x1F, 1e5, beyond 2^53) stay strings; true/false stay strings.'),
    declaration: z.boolean().default(true).describe('When building XML, start with `<?xml version="1.0" encoding="UTF-8"?>`.'),
    pretty: z.boolean().default(false).describe('When building XML, one element per line, indented by two spaces.'),
  });

export const CSV_TYPES = ['string', 'number', 'integer', 'boolean'] as const;
export type CsvType = (typeof CSV_TYPES)[number];

export const csvOptions = z
  .strictObject({
    header: z
      .boolean()
      .default(true)
      .describe('The first row names the columns (read) / a header row is written (write). When false, reading needs `columns`.'),
    columns: z
      .array(z.string().min(1).describe('A column name.'))
      .min(1)
      .optional()
      .describe(
        'Writing: the columns, in order (default: every key of every row, in order of appearance). Reading without header: the column names. Reading with a header: the columns kept; each must be in the header.',
      ),
    delimiter: z.string().min(1).default(',').describe('Field separator.'),
    quote: z.string().length(1).default('"').describe('Quote character; a quote inside a quoted field is doubled.'),
    types: z
      .record(z.string().min(1), z.enum(CSV_TYPES).describe('Type of the column\'s values.'))
      .default({})
      .describe(
        'Reading: column → string | number | integer | boolean. Unlisted columns stay strings, so 007 keeps its zeros. An empty typed field reads as null; a value that does not fit the type is an error.',
      ),
    records: dotPath
      .optional()
      .describe(
        'Dot path to the rows (e.g. `Orders.Order`): where they are taken from when writing CSV, and put when reading it. Into XML it starts at the root element, whatever `xml.unwrapRoot` says. Default: the body itself is the rows (an array, or one object for one row). A missing or empty element is no rows.',
      ),
    bom: z.boolean().default(false).describe('Write a UTF-8 byte-order mark first (some spreadsheets want it). A BOM on input is always removed.'),
    eol: z.enum(['lf', 'crlf']).default('lf').describe('Line ending written after each row. Reading accepts both.'),
  })
  .refine((o) => o.header || o.columns !== undefined, { path: ['columns'], message: 'csv.header: false needs csv.columns to name the columns' });

/** Also raised at run time when the body's content-type, not `from`, says XML. */
export const XML_TO_CSV_NEEDS_RECORDS = 'converting xml to csv needs csv.records, the path from the root element to the rows, such as Orders.Order';

export const convertOptions = z
  .strictObject({
    to: z.enum(CONVERT_KINDS).describe('Kind of body to produce; the content-type header is set to match.'),
    from: z
      .enum(CONVERT_KINDS)
      .optional()
      .describe('Kind of body to read; default: the kind its content-type says (JSON when there is none).'),
    xml: xmlOptions.prefault({}).describe('How XML maps to JSON and back (fast-xml-parser). Text values stay strings unless `numbers` is set.'),
    csv: csvOptions.prefault({}).describe('How CSV maps to JSON and back (csv-parse, csv-stringify): rows are objects keyed by column name.'),
  })
  .superRefine((o, ctx) => {
    // CSV rows are an array: XML needs a root above them, from xml.root or a records path of two keys or more.
    if (o.to === 'xml' && o.from === 'csv' && o.xml.root === undefined && (o.csv.records?.split('.').length ?? 0) < 2) {
      ctx.addIssue({ code: 'custom', path: ['xml', 'root'], message: 'converting csv to xml needs xml.root (rows become its items) or csv.records such as Orders.Order' });
    }
    if (o.to === 'csv' && o.from === 'xml' && o.csv.records === undefined) ctx.addIssue({ code: 'custom', path: ['csv', 'records'], message: XML_TO_CSV_NEEDS_RECORDS });
  })
  .describe('Convert the body between JSON, XML and CSV; the content-type header follows the body.');

export type ConvertOptions = z.output<typeof convertOptions>;
export type XmlOptions = ConvertOptions['xml'];
export type CsvOptions = ConvertOptions['csv'];
