/**
 * @module steps/map
 * Builds a new body from explicit field mappings, each a JSONata expression over
 * the current body (`$headers`, `$meta` and `$env` bound).
 *
 * A field is either its expression (`total: $sum(items.price)`) or the long form
 * `{ expr, default?, type?, required? }`. Missing and null are different things:
 * an expression that yields nothing (a path that is not there) leaves the field
 * out, or takes its `default`, or fails when `required`; a `null` is a value, is
 * kept, takes no default and satisfies `required`. `type` converts the value
 * without loss or fails (see steps/coerce). The body must be JSON: a text body
 * is refused (JNC_BODY_NOT_JSON).
 */
import { z } from 'zod';
import { errors } from '../core/errors.ts';
import { compileExpression, expression } from '../core/expression.ts';
import { requireJsonBody } from '../core/media.ts';
import type { Json } from '../core/message.ts';
import { isRecord } from '../core/record.ts';
import { coerce, MAP_TYPES, type MapType } from './coerce.ts';
import { defineStep } from './step.ts';

const LONG_KEYS = ['expr', 'default', 'type', 'required'];

const longField = z
  .strictObject({
    expr: expression.describe('JSONata expression whose result becomes this output field.'),
    default: z.unknown().optional().describe('Used when the expression yields nothing (not when it yields null); converted to `type` too.'),
    type: z.enum(MAP_TYPES).optional().describe('Convert the value to this type, or fail the message (JNC_MAP_TYPE). null stays null.'),
    required: z.boolean().default(false).describe('Fail the message (JNC_MAP_REQUIRED) when the expression yields nothing and there is no default. null counts as present.'),
  })
  .superRefine((f, ctx) => {
    // A default that cannot have the field's type is a mistake in the config, not in a message.
    if (f.default === undefined || f.type === undefined) return;
    const c = coerce(f.default as Json, f.type);
    if (!c.ok) ctx.addIssue({ code: 'custom', path: ['default'], message: `must be a ${f.type}; ${c.reason}` });
  });

const field = z
  .union([expression, longField], { error: (issue) => fieldMessage(issue) })
  .describe(
    'JSONata expression whose result becomes this output field, or { expr, default, type, required }: default is used when the expression yields nothing (not null); type (string, number, integer, boolean, date-time) converts the value or fails the message; required fails the message when nothing was yielded and there is no default.',
  );

export const mapOptions = z
  .record(z.string().min(1), field)
  .refine((m) => Object.keys(m).length > 0, 'map needs at least one field')
  .describe('Output field → JSONata expression over the input body (or the long form with default, type, required). The result replaces the body.');

interface CompiledField {
  name: string;
  expr: ReturnType<typeof compileExpression>;
  default: Json | undefined;
  type: MapType | undefined;
  required: boolean;
}

export const mapStep = defineStep({
  name: 'map',
  summary: 'Shape the body with one JSONata expression per output field, with optional defaults, types and required fields.',
  options: mapOptions,
  create(options, deps) {
    const where = `${deps.flow}[${deps.index}].map`;
    const fields: CompiledField[] = Object.entries(options).map(([name, spec]) =>
      typeof spec === 'string'
        ? { name, expr: compileExpression(spec), default: undefined, type: undefined, required: false }
        : { name, expr: compileExpression(spec.expr), default: spec.default as Json | undefined, type: spec.type, required: spec.required },
    );
    return async function map(msg) {
      requireJsonBody(msg, where);
      const out: Record<string, Json> = {};
      for (const f of fields) {
        let value: unknown;
        try {
          value = await f.expr.evaluate(msg.body, msg);
        } catch (e) {
          // An expression that throws on this input will throw on every retry too.
          throw errors.STEP_INVALID.create([`${where}.${f.name}`, (e as Error).message], { cause: e });
        }
        // JSONata yields undefined for an absent path: the field is missing, unlike null.
        let v = value === undefined ? f.default : toJson(value);
        if (v === undefined) {
          if (f.required) throw errors.MAP_REQUIRED.create([where, f.name, f.expr.source]);
          continue;
        }
        if (f.type !== undefined) {
          const c = coerce(v, f.type);
          if (!c.ok) throw errors.MAP_TYPE.create([where, f.name, article(f.type), c.reason], { details: { field: f.name, type: f.type } });
          v = c.value;
        }
        out[f.name] = v;
      }
      return { ...msg, body: out };
    };
  },
});

/** JSONata sequences are arrays with extra properties; keep plain JSON only. */
function toJson(v: unknown): Json | undefined {
  const json = JSON.stringify(v);
  // A function (a JSONata lambda) serialises to nothing: it is no value a body can carry.
  return json === undefined ? undefined : (JSON.parse(json) as Json);
}

function article(type: MapType): string {
  return type === 'integer' ? 'an integer' : type === 'date-time' ? 'a date-time' : `a ${type}`;
}

/**
 * A union's own message is only "Invalid input"; say instead what was wrong
 * with the form the value was written in.
 */
function fieldMessage(issue: z.core.$ZodRawIssue): string {
  const input = issue.input;
  const branches = (issue as { errors?: z.core.$ZodIssue[][] }).errors ?? [];
  if (typeof input === 'string') return branches[0]?.map((i) => i.message).join('; ') ?? 'invalid expression';
  if (!isRecord(input)) {
    return `expected a JSONata expression (a string) or a mapping with ${LONG_KEYS.join(', ')}`;
  }
  return (branches[1] ?? []).map((i) => longFormMessage(i, input)).join('; ');
}

function longFormMessage(i: z.core.$ZodIssue, input: Record<string, unknown>): string {
  const key = i.path.map(String).join('.');
  switch (i.code) {
    case 'unrecognized_keys':
      return i.keys.map((k) => `unknown key "${k}" (a field takes ${LONG_KEYS.join(', ')})`).join('; ');
    case 'invalid_type':
      if (i.path.length === 1 && !Object.hasOwn(input, key)) return `missing required key "${key}"`;
      return `${key}: expected ${i.expected === 'boolean' ? 'true or false' : `a ${i.expected}`}`;
    case 'invalid_value':
      return `${key}: expected one of ${i.values.map(String).join(', ')}`;
    default:
      return `${key}: ${i.message}`;
  }
}
