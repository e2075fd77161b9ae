/**
 * @module steps/value-excerpt
 * A message value as it may appear in an error: short enough for a dead letter,
 * a log line or a problem body, whatever the message carried.
 */
import type { Json } from '../core/message.ts';

/** The value itself when its JSON is at most `maxChars` long, else the start of its JSON, marked cut. */
export function boundedValue(v: Json, maxChars: number): Json {
  const json = JSON.stringify(v);
  return json.length <= maxChars ? v : `${json.slice(0, maxChars)}… (${json.length} chars)`;
}

/** The value's JSON for a sentence: `"abc"`, `12`, `{"a":1,…`. */
export function excerpt(v: unknown, maxChars = 60): string {
  const json = v === undefined ? 'nothing' : JSON.stringify(v);
  return json.length <= maxChars ? json : `${json.slice(0, maxChars)}…`;
}
