/**
 * @module observability/mask
 * A message or dead letter as it is shown (admin API, `junction dlq show`): the
 * flow's `redact` fields of the body replaced by `[redacted]`, and their values
 * cut out of every other text of the record too (an error that quotes the value,
 * a receiver's answer that echoes it); credential headers and credential query
 * parameters hidden. Only the view changes: the stored message keeps its body
 * whole, so a replay sends what was received.
 */
import { z } from 'zod';
import type { Json } from '../core/message.ts';
import { isRecord } from '../core/record.ts';
import type { DeadLetterStore, DeadLetterSummary } from '../store/store.ts';
import { REDACTED, redactHeaders, redactUrl, scrubDeep, scrubber } from './redact.ts';

/** A flow's `redact` option: where this module's masking applies. */
export const redactOption = z
  .array(
    z
      .string()
      .regex(/^[^.\s]+(?:\.[^.\s]+)*$/, 'a dot path such as card.number or items.*.iban')
      .describe('A field of the body, e.g. card.number or items.*.iban.'),
  )
  .min(1)
  .describe(
    'Body fields shown as [redacted] wherever a message or dead letter of this flow is shown (admin API, junction dlq show/list); their values are cut from the error texts shown with it too. Only the view: the stored body stays whole, so a replay sends what was received. Dot paths into a JSON body; * is any key or element; a name applied to an array applies to each element.',
  );

/** What every shown record has. */
export interface Shown {
  body: Json;
  headers: Record<string, string>;
  meta: Record<string, Json>;
}

/**
 * The body with each field at `fields` (dot paths; `*` is any key or element;
 * an array is looked into element by element) replaced by `[redacted]`, and
 * the values replaced (strings and numbers, however deep).
 */
export function maskFields(body: Json, fields: readonly string[]): { body: Json; values: string[] } {
  const values: string[] = [];
  let out = body;
  for (const field of fields) out = mask(out, field.split('.'), values);
  return { body: out, values };
}

/** The record as shown: see the module comment. `fields` are the flow's `redact` option. */
export function forDisplay<T extends Shown>(record: T, fields: readonly string[] = []): T {
  const { body, values } = maskFields(record.body, fields);
  const rest = scrubDeep({ ...record, body: null }, scrubber(values));
  const path = rest.meta.path;
  return {
    ...rest,
    body,
    headers: redactHeaders(rest.headers),
    meta: typeof path === 'string' ? { ...rest.meta, path: redactUrl(path) } : rest.meta,
  };
}

function mask(v: Json, segments: readonly string[], values: string[]): Json {
  const [head, ...rest] = segments;
  if (head === undefined) {
    collect(v, values);
    return REDACTED;
  }
  if (Array.isArray(v)) {
    if (head === '*') return v.map((item) => mask(item, rest, values));
    if (/^\d+$/.test(head)) {
      const i = Number(head);
      return i < v.length ? v.map((item, j) => (j === i ? mask(item, rest, values) : item)) : v;
    }
    // As in JSONata: a name applied to an array applies to each element.
    return v.map((item) => mask(item, segments, values));
  }
  if (typeof v !== 'object' || v === null) return v;
  if (head === '*') return Object.fromEntries(Object.entries(v).map(([k, item]) => [k, mask(item, rest, values)]));
  if (!Object.hasOwn(v, head)) return v;
  return { ...v, [head]: mask(v[head] as Json, rest, values) };
}

function collect(v: Json, values: string[]): void {
  // Already masked by an earlier path: nothing left to cut.
  if (typeof v === 'string') {
    if (v !== REDACTED) values.push(v);
  }
  else if (typeof v === 'number') values.push(String(v));
  else if (Array.isArray(v)) for (const item of v) collect(item, values);
  else if (isRecord(v)) for (const item of Object.values(v)) collect(item, values);
}

/**
 * A dead-letter row as listed. Its error may quote a masked field (a validation
 * message does), so those values are cut out too; that takes the body, so a
 * row of a flow with `redact` costs one more read.
 */
export async function summaryForDisplay(row: DeadLetterSummary, fields: readonly string[], deadLetters: DeadLetterStore): Promise<DeadLetterSummary> {
  if (fields.length === 0) return row;
  const full = await deadLetters.get(row.id);
  if (!full) return row;
  return { ...row, error: scrubber(maskFields(full.body, fields).values)(row.error) };
}
