/**
 * @module core/media
 * The kinds of body a message can carry. A JSON body is a JSON value; any other
 * body is text, and the message's `content-type` header says which kind. Steps
 * that change the kind (convert, call) change the header with it; steps that
 * read JSON refuse text ({@link requireJsonBody}).
 */
import { errors } from './errors.ts';
import type { Json } from './message.ts';

export const MEDIA_KINDS = ['json', 'xml', 'csv', 'text'] as const;
export type MediaKind = (typeof MEDIA_KINDS)[number];

/** The content type written for each kind when Junction produces it. */
export const CONTENT_TYPES: Record<MediaKind, string> = {
  json: 'application/json',
  xml: 'application/xml',
  csv: 'text/csv',
  text: 'text/plain; charset=utf-8',
};

/** Reads a Content-Type header (parameters ignored, `+json`/`+xml` suffixes understood). */
export function mediaKind(contentType: string | undefined): MediaKind | undefined {
  if (contentType === undefined) return undefined;
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  if (type === 'application/json' || /^application\/[\w.+-]+\+json$/.test(type)) return 'json';
  if (type === 'application/xml' || type === 'text/xml' || /^application\/[\w.+-]+\+xml$/.test(type)) return 'xml';
  if (type === 'text/csv') return 'csv';
  if (type === 'text/plain') return 'text';
  return undefined;
}

/**
 * The kind of a message's body. A body that is not a string is a JSON value,
 * whatever its header says (a CSV record parsed into an object keeps the
 * upload's `text/csv`). A string is JSON under a JSON content type or none, and
 * text of its kind otherwise: a content type Junction does not read (text/html,
 * application/octet-stream) is text kept as it came, never a JSON string.
 */
export function bodyKind(msg: { body: Json; headers: Record<string, string> }): MediaKind {
  const contentType = msg.headers['content-type'];
  if (typeof msg.body !== 'string' || contentType === undefined) return 'json';
  return mediaKind(contentType) ?? 'text';
}

const KIND_NAMES: Record<MediaKind, string> = { json: 'JSON', xml: 'XML text', csv: 'CSV text', text: 'text' };

/**
 * For a step that reads the body as a JSON value (map, validate, filter, split,
 * enrich): throws JNC_BODY_NOT_JSON, permanent, naming the step and the content
 * type, when the body is text. Read as JSON, text is one string: paths into it
 * give nothing, and a filter would drop the message without a word.
 * @param where the step, e.g. `orders[1].map`
 */
export function requireJsonBody(msg: { body: Json; headers: Record<string, string> }, where: string): void {
  const kind = bodyKind(msg);
  if (kind !== 'json') throw errors.BODY_NOT_JSON.create([where, KIND_NAMES[kind], msg.headers['content-type']]);
}

/** What goes on the wire for a message's body: JSON serialised, text as it is, under its own content type. */
export function wireBody(msg: { body: Json; headers: Record<string, string> }): { contentType: string; payload: string } {
  if (bodyKind(msg) === 'json') return { contentType: CONTENT_TYPES.json, payload: JSON.stringify(msg.body) };
  // Text: bodyKind said the body is a string under a content type of its own.
  return { contentType: msg.headers['content-type']!, payload: msg.body as string };
}
