/**
 * @module core/record
 * The two "is this an object with keys" checks, each written once.
 */

/**
 * True for an object that is not an array (nor null): a JSON object, a YAML
 * mapping, the options of a step. Says nothing about its prototype; see
 * {@link isPlainObject} for a walk that rebuilds what it visits.
 */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * True for an object literal or `Object.create(null)` only: not an array, a Date,
 * a Secret or any other class instance. A walk that copies what it visits
 * (`Object.fromEntries`) checks this, so an instance passes through whole.
 */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}
