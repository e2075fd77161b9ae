/**
 * @module config/yaml-source
 * The YAML text of a config file, kept as a document with node ranges so that
 * a key path found wrong later (by zod or the reference check) can be turned
 * back into a line and a column.
 */
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import type { Document, Node, Pair } from 'yaml';
import type { KeyPath, PathIssue } from './issue.ts';

export interface Position {
  line: number;
  column: number;
}

export interface YamlSource {
  /** The plain JS value; undefined when the YAML could not be parsed. */
  value: unknown;
  /** Syntax errors and warnings, already placed. */
  problems: (PathIssue & Position)[];
  /** Line and column (1-based) that an issue about `path` should point at. */
  locate(path: KeyPath, at?: PathIssue['at']): Position;
}

export function parseYaml(text: string): YamlSource {
  const lineCounter = new LineCounter();
  // prettyErrors off: its messages carry several lines of source context, and an issue is one line.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, merge: true });
  const pos = (offset: number): Position => {
    const p = lineCounter.linePos(offset);
    return { line: p.line, column: p.col };
  };

  const problems = [...doc.errors, ...doc.warnings].map((e) => ({
    ...pos(e.pos[0]),
    path: pathAt(doc, e.pos[0]),
    message: yamlMessage(e.message),
  }));

  let value: unknown;
  if (doc.errors.length === 0) {
    try {
      value = doc.toJS({ maxAliasCount: 100 });
      const loop = cyclePath(value);
      if (loop) {
        problems.push({ ...locateAt(loop), path: loop, message: 'an alias refers to a node that contains it; a config cannot be circular' });
        value = undefined;
      }
    } catch (e) {
      // toJS throws only on alias abuse (a "billion laughs" file).
      problems.push({ line: 1, column: 1, path: [], message: (e as Error).message });
    }
  }

  function locateAt(path: KeyPath, at: PathIssue['at'] = 'value'): Position {
    const node = locateNode(doc, path, at);
    return node?.range ? pos(node.range[0]) : { line: 1, column: 1 };
  }

  return { value, problems, locate: locateAt };
}

/** yaml builds a circular value from `a: &x { b: *x }`; every later walk would then loop forever. */
function cyclePath(value: unknown, path: (string | number)[] = [], open = new Set<unknown>()): KeyPath | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  if (open.has(value)) return path;
  open.add(value);
  for (const [k, v] of Object.entries(value)) {
    const found = cyclePath(v, [...path, Array.isArray(value) ? Number(k) : k], open);
    if (found) return found;
  }
  open.delete(value);
  return undefined;
}

/** First line only, without a final period, to read like the other issues. */
function yamlMessage(message: string): string {
  return message.split('\n')[0]!.replace(/\.$/, '');
}

function resolve(doc: Document, node: unknown): unknown {
  return isAlias(node) ? node.resolve(doc) : node;
}

function pairFor(collection: unknown, seg: string | number): Pair | undefined {
  if (!isMap(collection)) return undefined;
  return collection.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
}

function childOf(doc: Document, collection: unknown, seg: string | number): { pair?: Pair; node: unknown } | undefined {
  const c = resolve(doc, collection);
  if (isSeq(c)) {
    const item = typeof seg === 'number' ? c.items[seg] : undefined;
    return item === undefined ? undefined : { node: resolve(doc, item) };
  }
  const pair = pairFor(c, seg);
  return pair ? { pair, node: resolve(doc, pair.value) } : undefined;
}

/**
 * The node for `path`, or the nearest ancestor that exists. A value that is a
 * block map or list starts on the line after its key, and an empty value sits
 * at the end of the key's line, so the key is the better anchor for both: it
 * is what the reader named.
 */
function locateNode(doc: Document, path: KeyPath, at: NonNullable<PathIssue['at']>): Node | undefined {
  const target = at === 'parent' ? path.slice(0, -1) : path;
  let node: unknown = resolve(doc, doc.contents);
  let anchor: Node | undefined = (node as Node | null) ?? undefined;
  for (const [i, seg] of target.entries()) {
    const child = childOf(doc, node, seg);
    if (!child) break;
    const last = i === target.length - 1;
    const key = child.pair && isScalar(child.pair.key) ? child.pair.key : undefined;
    if (last && at === 'key' && key) return key;
    anchor = (key && (isMap(child.node) || isSeq(child.node) || isEmpty(child.node)) ? key : (child.node as Node | null)) ?? key ?? anchor;
    node = child.node;
  }
  return anchor;
}

/** `server:` with nothing after it: a null scalar of no width, at the end of the line. */
function isEmpty(node: unknown): boolean {
  return isScalar(node) && node.value === null && !!node.range && node.range[0] === node.range[1];
}

/** The key path of the deepest node holding `offset`, so a syntax error is named like any other issue. */
function pathAt(doc: Document, offset: number): KeyPath {
  const path: (string | number)[] = [];
  let node: unknown = doc.contents;
  const holds = (n: unknown): boolean => {
    const r = (n as Node | null)?.range;
    return !!r && r[0] <= offset && offset <= r[2];
  };
  for (;;) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && (holds(p.key) || holds(p.value)));
      if (!pair || !isScalar(pair.key)) break;
      path.push(String(pair.key.value));
      if (!holds(pair.value)) break;
      node = pair.value;
    } else if (isSeq(node)) {
      const i = node.items.findIndex(holds);
      if (i < 0) break;
      path.push(i);
      node = node.items[i];
    } else break;
  }
  return path;
}
