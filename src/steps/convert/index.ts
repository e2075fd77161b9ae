/**
 * @module steps/convert
 * Converts the body between JSON, XML and CSV, and sets the `content-type`
 * header to the new kind, so the header always says what the body is.
 *
 * Every conversion reads the body into a JSON value and writes that value out, so
 * XML ↔ CSV goes through JSON. `csv.records` is a path in that value; from XML
 * it starts at the root element (only `to: json` unwraps the root), so the same
 * `records: Orders.Order` reads `<Orders><Order>…` and writes it back. A body
 * already of the target kind is read (so it is checked) and passes unchanged.
 *
 * ```yaml
 * - convert: { to: json }                                   # XML or CSV in, by content-type
 * - convert: { to: xml, xml: { root: Order } }              # JSON in
 * - convert: { to: csv, csv: { records: Orders.Order } }    # <Orders><Order>… in
 * ```
 */
import { errors } from '../../core/errors.ts';
import { bodyKind, CONTENT_TYPES, mediaKind } from '../../core/media.ts';
import type { Json, Message } from '../../core/message.ts';
import { defineStep } from '../step.ts';
import { createCsvCodec } from './csv.ts';
import { describeValue } from './describe.ts';
import { convertOptions, XML_TO_CSV_NEEDS_RECORDS, type ConvertKind } from './options.ts';
import { putRecords, takeRecords } from './records.ts';
import { createXmlCodec } from './xml.ts';

export { convertOptions } from './options.ts';

export const convertStep = defineStep({
  name: 'convert',
  summary: 'Convert the body between JSON, XML and CSV; the content-type follows.',
  options: convertOptions,
  create(options, deps) {
    const where = `${deps.flow}[${deps.index}].convert`;
    const { to } = options;
    const xml = createXmlCodec(options.xml, where);
    const csv = createCsvCodec(options.csv, where);
    const records = options.csv.records?.split('.');
    const contentType = CONTENT_TYPES[to];
    const shapeError = (from: string, problem: string) => errors.CONVERT_SHAPE.create([where, from, to, problem]);

    /** The body as a JSON value: rows under csv.records, an XML document without its root only when going to JSON. */
    function read(body: Json, from: ConvertKind): Json {
      if (from === 'json') return body;
      if (typeof body !== 'string') throw shapeError(from, `the body is ${describeValue(body)}, not ${from.toUpperCase()} text`);
      // Only `to: json` unwraps the root: paths into XML (csv.records, xml.arrays) start at the root element.
      return from === 'xml' ? xml.parse(body, to !== 'json') : putRecords(csv.parse(body), records);
    }

    function write(value: Json, from: ConvertKind): Json {
      if (to === 'json') return value;
      if (to === 'xml') return xml.build(value, from);
      const rows = takeRecords(value, records);
      if (typeof rows === 'string') throw shapeError(from, rows);
      return csv.stringify(rows, from);
    }

    return async function convert(msg: Message): Promise<Message> {
      const kind = options.from ?? bodyKind(msg);
      if (kind === 'text') throw shapeError('text', `the content-type is ${msg.headers['content-type']}; set \`from\` to say what the body holds`);
      if (kind === 'xml' && to === 'csv' && records === undefined) throw shapeError(kind, XML_TO_CSV_NEEDS_RECORDS);
      if (kind === 'json' && typeof msg.body === 'string') {
        throw shapeError('json', 'the JSON body is a string; if it holds XML or CSV, say so with `from` or its content-type');
      }
      const value = read(msg.body, kind);
      if (kind === to) {
        // Keep a more precise header (a charset, a +xml type) when it already says the right kind.
        return mediaKind(msg.headers['content-type']) === to ? msg : { ...msg, headers: { ...msg.headers, 'content-type': contentType } };
      }
      return { ...msg, body: write(value, kind), headers: { ...msg.headers, 'content-type': contentType } };
    };
  },
});
