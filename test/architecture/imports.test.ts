/**
 * @module test/architecture/imports
 * The import graph of `src/` against the layers of DESIGN.md ("Layout"):
 * imports point down, never up, and there are no cycles. Read from the source
 * text, so it costs no build and sees exactly what Node loads.
 *
 * `import type` is held to the same rules as a value import: a type that
 * several layers share belongs in the lowest of them (`core/`).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

/**
 * The layers, lowest first; a file may import its own layer or lower ones. The
 * top-level folder of a file under `src/` decides its layer; `index.ts` (the
 * public API) sits above everything.
 */
export const LAYERS: readonly (readonly string[])[] = [
  ['core'],
  ['store', 'observability'],
  ['policies', 'auth'],
  ['connectors'],
  ['steps'],
  ['server', 'runtime', 'triggers'],
  ['config'],
  ['engine'],
  ['cli'],
  ['index.ts'],
];

function layerOf(file: string): number {
  const top = relative(SRC, file).split('/')[0]!;
  const i = LAYERS.findIndex((l) => l.includes(top));
  if (i < 0) throw new Error(`${relative(SRC, file)}: its folder ${top} has no layer; add it to LAYERS (and to DESIGN.md's list)`);
  return i;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

// `import … from '…'`, `export … from '…'`, `import('…')` and bare `import '…'`.
const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g;

/** Every file of `src/` and the files of `src/` it imports. */
export function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(SRC)) {
    const text = readFileSync(file, 'utf8');
    const deps: string[] = [];
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[1] ?? m[2] ?? m[3]!;
      if (!spec.startsWith('.')) continue;
      const target = resolve(dirname(file), spec);
      if (target.startsWith(SRC) && target.endsWith('.ts')) deps.push(target);
    }
    graph.set(file, deps);
  }
  return graph;
}

/** Each cycle once, as the files along it (relative to src/). */
export function cycles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (file: string): void => {
    state.set(file, 'open');
    stack.push(file);
    for (const dep of graph.get(file) ?? []) {
      if (state.get(dep) === 'open') found.push([...stack.slice(stack.indexOf(dep)), dep].map((f) => relative(SRC, f)));
      else if (!state.has(dep)) visit(dep);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of graph.keys()) if (!state.has(file)) visit(file);
  return found;
}

describe('the import graph of src/', () => {
  const graph = importGraph();

  it('has files in every layer it checks (the test reads the real tree)', () => {
    assert.ok(graph.size > 50, `only ${graph.size} files found under ${SRC}`);
    for (const file of graph.keys()) layerOf(file);
  });

  it('has no import that points up the layer list', () => {
    const upward: string[] = [];
    for (const [file, deps] of graph) {
      for (const dep of deps) {
        if (layerOf(dep) > layerOf(file)) upward.push(`${relative(SRC, file)} → ${relative(SRC, dep)}`);
      }
    }
    assert.deepEqual(upward, [], `imports must point down (${LAYERS.map((l) => l.join(', ')).join(' < ')}):\n${upward.join('\n')}`);
  });

  it('has no cycles', () => {
    const found = cycles(graph);
    assert.deepEqual(found, [], found.map((c) => c.join(' → ')).join('\n'));
  });
});

describe('the checker itself', () => {
  it('finds a cycle and an upward import in a graph made for it', () => {
    const a = join(SRC, 'core/a.ts');
    const b = join(SRC, 'core/b.ts');
    assert.deepEqual(cycles(new Map([[a, [b]], [b, [a]]])), [['core/a.ts', 'core/b.ts', 'core/a.ts']]);
    assert.ok(layerOf(join(SRC, 'cli/main.ts')) > layerOf(join(SRC, 'engine/engine.ts')));
    assert.ok(layerOf(join(SRC, 'steps/map.ts')) > layerOf(join(SRC, 'connectors/rest.ts')));
  });
});
