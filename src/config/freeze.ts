/**
 * @module config/freeze
 * Validated config is never mutated (STYLE.md §6.10): every object and array
 * in it is frozen. A {@link Secret} is frozen as it is; its value sits in a
 * private field, which freezing leaves readable.
 */
import { isSecret } from '../core/secret.ts';

export function deepFreeze<T>(value: T, seen = new WeakSet<object>()): T {
  if (typeof value !== 'object' || value === null || seen.has(value)) return value;
  seen.add(value);
  Object.freeze(value);
  if (isSecret(value)) return value;
  for (const key of Reflect.ownKeys(value)) deepFreeze((value as Record<PropertyKey, unknown>)[key], seen);
  return value;
}
