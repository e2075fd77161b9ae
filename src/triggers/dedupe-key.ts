/**
 * @module triggers/dedupe-key
 * The sender's dedupe key, as every trigger takes it: from the trigger's
 * expression, or given as is (a header, an upload's key), and in either case
 * refused when it cannot serve.
 */
import { errors } from '../core/errors.ts';
import type { Expression } from '../core/expression.ts';
import type { Json } from '../core/message.ts';

const MAX_KEY_LENGTH = 255;

/** Evaluates the trigger's key expression; a configured key that yields nothing is refused, not ignored. */
export async function keyFromExpression(expr: Expression, body: Json, headers: Record<string, string>): Promise<string> {
  let v: unknown;
  try {
    v = await expr.evaluate(body, { headers, meta: {} });
  } catch (e) {
    throw errors.INPUT_IDEMPOTENCY_KEY.create([`the expression ${expr.source} failed: ${(e as Error).message}`]);
  }
  // Yielding nothing would silently turn dedupe off for this message.
  if (typeof v === 'number' && Number.isFinite(v)) return checkKey(String(v));
  if (typeof v !== 'string' || v === '') {
    throw errors.INPUT_IDEMPOTENCY_KEY.create([`the expression ${expr.source} yielded ${v === undefined ? 'nothing' : 'a ' + typeof v}; it must yield a non-empty string`]);
  }
  return checkKey(v);
}

/** Returns the key when it can be stored; throws JNC_INPUT_IDEMPOTENCY_KEY otherwise. */
export function checkKey(key: string): string {
  if (key.length === 0 || key.length > MAX_KEY_LENGTH) {
    throw errors.INPUT_IDEMPOTENCY_KEY.create([`it must be 1 to ${MAX_KEY_LENGTH} characters long`]);
  }
  return key;
}
