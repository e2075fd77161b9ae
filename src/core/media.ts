/**
 * @module core/media
 * The kinds of body a message can carry. A JSON body is a JSON value; any other
 * body is text, and the message's `content-type` header says which kind. Steps
 * that change the kind (convert) change the header with it.
 */
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

/** The kind of a message's body: its content-type header, JSON when absent. */
export function bodyKind(msg: { headers: Record<string, string> }): MediaKind {
  return mediaKind(msg.headers['content-type']) ?? 'json';
}

/** What goes on the wire for a message's body: JSON serialised, text as it is, under its own content type. */
export function wireBody(msg: { body: Json; headers: Record<string, string> }): { contentType: string; payload: string } {
  const kind = bodyKind(msg);
  if (kind === 'json') return { contentType: CONTENT_TYPES.json, payload: JSON.stringify(msg.body) };
  const payload = typeof msg.body === 'string' ? msg.body : JSON.stringify(msg.body);
  return { contentType: msg.headers['content-type'] ?? CONTENT_TYPES[kind], payload };
}
