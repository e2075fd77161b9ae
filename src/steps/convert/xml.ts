/**
 * @module steps/convert/xml
 * XML text ↔ its JSON form, with fast-xml-parser configured once per step.
 *
 * The JSON form: an element is a key; its attributes are keys with the attribute
 * prefix (`@id`), its text is a string, or the text key (`#text`) when it also
 * has attributes or children; a repeated element is an array. Prefixed names
 * (`ns:Order`) and `xmlns` attributes are kept as they are written. Text stays a
 * string unless `numbers` is set, so `007` reads as `"007"`.
 */
import XMLBuilder, { type XmlBuilderOptions } from 'fast-xml-builder';
import { XMLParser, type X2jOptions } from 'fast-xml-parser';
import { SyntaxValidator } from 'fast-xml-validator';
import { errors } from '../../core/errors.ts';
import type { Json } from '../../core/message.ts';
import { isRecord } from '../../core/record.ts';
import { describeValue } from './describe.ts';
import { XML_NAME, type ConvertKind, type XmlOptions } from './options.ts';

export const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';

/** Why a text is not well-formed XML, and where (1-based). */
export interface XmlSyntaxError {
  line: number;
  column: number;
  /** The validator's words, e.g. `Unclosed tag 'a'.` */
  message: string;
  /** The validator's code, e.g. `InvalidTag`. */
  code: string;
}

/**
 * The first well-formedness mistake in `text`, or undefined when there is none.
 * fast-xml-parser itself is lenient (an unclosed tag still parses), so this is
 * what decides, at ingress and in the convert step alike.
 * @param oneRoot refuse a second top-level element here (ingress); the convert
 *   step lets it through to name the roots it found
 */
export function xmlSyntaxError(text: string, { oneRoot }: { oneRoot: boolean }): XmlSyntaxError | undefined {
  try {
    SyntaxValidator.validate(text, { multipleRoots: !oneRoot });
    return undefined;
  } catch (e) {
    const err = e as { code?: unknown; message: string; line?: unknown; col?: unknown };
    // The validator throws its ValidationError for a mistake; anything else is a fault of its own.
    if (typeof err.code !== 'string' || typeof err.line !== 'number') throw e;
    return { line: err.line, column: typeof err.col === 'number' ? err.col : 1, message: err.message, code: err.code };
  }
}

export interface XmlCodec {
  /**
   * Reads an XML document into its JSON form: the root element's content, or
   * `{ Root: content }` with `unwrapRoot: false` or `keepRoot`.
   * @param keepRoot keep the root whatever `unwrapRoot` says (paths such as `csv.records` start at it)
   * @throws JNC_CONVERT_XML with line and column when the text is not well-formed
   */
  parse(text: string, keepRoot?: boolean): Json;
  /**
   * Writes a JSON value as an XML document: under `root` when set, else the value
   * must be an object with one key, the root element.
   * @param from the kind the value was read from, for error messages
   * @throws JNC_CONVERT_SHAPE when the value has no XML equivalent
   */
  build(value: Json, from: ConvertKind): string;
}

/** @param where the step, for error messages: `flow[index].convert` */
export function createXmlCodec(options: XmlOptions, where: string): XmlCodec {
  const parser = new XMLParser(parserOptions(options));
  const builder = new XMLBuilder(builderOptions(options));

  return {
    parse(text, keepRoot = false) {
      const bad = xmlSyntaxError(text, { oneRoot: false });
      if (bad) {
        const { line, column, message, code } = bad;
        throw errors.CONVERT_XML.create([where, `line ${line}, column ${column}: ${message}`], { details: { line, column, code } });
      }
      const doc = parser.parse(text) as Record<string, Json>;
      // Several top-level elements passed the check above, so that this can name them; a document has one.
      const roots = Object.keys(doc);
      const only = roots.length === 1 ? doc[roots[0]!] : undefined;
      if (only === undefined || Array.isArray(only)) {
        const count = only === undefined ? roots.length : only.length;
        throw errors.CONVERT_XML.create([where, `a document has one root element; this one has ${count} (${roots.join(', ')})`], {
          details: { code: 'RootCount' },
        });
      }
      return options.unwrapRoot && !keepRoot ? only : doc;
    },

    build(value, from) {
      const shapeError = (problem: string) => errors.CONVERT_SHAPE.create([where, from, 'xml', problem]);
      let doc: Json;
      if (options.root !== undefined) {
        doc = { [options.root]: Array.isArray(value) ? { [options.item]: value } : value };
      } else {
        const keys = isRecord(value) ? Object.keys(value) : undefined;
        if (keys?.length !== 1 || keys[0]!.startsWith(options.attributePrefix) || keys[0] === options.textKey) {
          throw shapeError(`without xml.root the body must be an object with one key, the root element; it is ${describeValue(value)}`);
        }
        if (Array.isArray((value as Record<string, Json>)[keys[0]!])) {
          throw shapeError(`the root key ${keys[0]} holds an array, which would make several root elements; set xml.root`);
        }
        doc = value;
      }
      // The builder writes any key as a tag name: a key such as "first name" or "0"
      // would make XML a receiver cannot read. Checking the names is enough (text and
      // attribute values are escaped), and costs far less than parsing the output again.
      const bad = firstBadName(doc, options);
      if (bad !== undefined) throw shapeError(`the XML it makes is not well-formed (${JSON.stringify(bad)} is not an XML name); are all keys valid XML names?`);
      const xml = builder.build(doc);
      return options.declaration ? XML_DECLARATION + xml : xml;
    },
  };
}

/** The first key, in document order, that would not make an element or attribute name. */
function firstBadName(value: Json, o: XmlOptions): string | undefined {
  if (Array.isArray(value)) {
    for (const item of value) {
      const bad = firstBadName(item, o);
      if (bad !== undefined) return bad;
    }
    return undefined;
  }
  if (value === null || typeof value !== 'object') return undefined;
  for (const [key, child] of Object.entries(value)) {
    if (key !== o.textKey) {
      const name = key.startsWith(o.attributePrefix) ? key.slice(o.attributePrefix.length) : key;
      if (!XML_NAME.test(name)) return key;
    }
    const bad = firstBadName(child, o);
    if (bad !== undefined) return bad;
  }
  return undefined;
}

function parserOptions(o: XmlOptions): X2jOptions {
  const arrays = new Set(o.arrays);
  // Only numbers are asked for: returning null tells the parser to leave true/false as text.
  const keepBooleans = (_name: string, value: unknown): unknown => (value === 'true' || value === 'false' ? null : value);
  return {
    ignoreAttributes: false,
    attributeNamePrefix: o.attributePrefix,
    textNodeName: o.textKey,
    ignoreDeclaration: true,
    ignorePiTags: true,
    parseTagValue: o.numbers,
    parseAttributeValue: o.numbers,
    // Numbers only when their text survives the trip back: no 007, hex or exponents.
    numberParseOptions: { leadingZeros: false, hex: false, eNotation: false },
    ...(o.numbers ? { tagValueProcessor: keepBooleans, attributeValueProcessor: keepBooleans } : {}),
    ...(arrays.size > 0 ? { isArray: (_name, jPath, _leaf, isAttribute) => !isAttribute && arrays.has(jPath as string) } : {}),
  };
}

function builderOptions(o: XmlOptions): XmlBuilderOptions {
  return {
    ignoreAttributes: false,
    attributeNamePrefix: o.attributePrefix,
    textNodeName: o.textKey,
    format: o.pretty,
    indentBy: '  ',
    // An empty string stays <a></a>; null becomes <a/> (both read back as "").
    suppressEmptyNode: false,
  };
}
