/**
 * @module test/config/config-properties
 * Property test at the config's edge: the example configs, slightly mutated
 * (a line deleted, repeated, swapped, re-indented, truncated, a value retyped,
 * stray characters), either load — and then a few of them start an engine that
 * stops cleanly — or give mistakes that each name a line, a column and a
 * message. Never an exception that is not a config error: a user's typo must
 * never end in a stack trace.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { parseConfigText, type LoadedConfig } from '../../src/config/load.ts';
import { formatPath } from '../../src/config/issue.ts';
import { isJunctionError } from '../../src/core/errors.ts';
import { silentLogger } from '../../src/observability/logger.ts';
import { startEngine } from '../../src/engine/engine.ts';
import { tempDir } from '../helpers/engine.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SEEDS = ['examples/quickstart/junction.yaml', 'examples/order-pipeline/junction.yaml', 'examples/custom-step/junction.yaml', 'test/fixtures/config/valid.yaml'].map((f) => {
  const file = resolve(ROOT, f);
  return { file, text: readFileSync(file, 'utf8') };
});

type Mutation =
  | { op: 'delete' | 'duplicate' | 'indent' | 'dedent'; line: number }
  | { op: 'swap'; line: number; other: number }
  | { op: 'truncate'; at: number }
  | { op: 'value'; line: number; value: string }
  | { op: 'insert'; at: number; text: string };

const scalar = fc.oneof(
  fc.constantFrom('', '~', 'null', 'true', 'no', '0', '-1', '1e309', '"', "'", '{', '[', '}', ']', '&a', '*a', '!!binary x', '${env:UNSET}', '${file:nope}', '{{ x', 'http://', '/', '- x'),
  fc.string({ maxLength: 12 }),
  fc.integer().map(String),
);
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constantFrom('delete', 'duplicate', 'indent', 'dedent'), line: fc.nat() }),
  fc.record({ op: fc.constant('swap'), line: fc.nat(), other: fc.nat() }),
  fc.record({ op: fc.constant('truncate'), at: fc.nat() }),
  fc.record({ op: fc.constant('value'), line: fc.nat(), value: scalar }),
  fc.record({ op: fc.constant('insert'), at: fc.nat(), text: fc.oneof(scalar, fc.constantFrom(':', ': ', '\t', '\n', '  - ', '#', '---\n')) }),
) as fc.Arbitrary<Mutation>;

function mutate(text: string, m: Mutation): string {
  const lines = text.split('\n');
  const n = (i: number): number => i % lines.length;
  switch (m.op) {
    case 'delete':
      lines.splice(n(m.line), 1);
      break;
    case 'duplicate':
      lines.splice(n(m.line), 0, lines[n(m.line)]!);
      break;
    case 'indent':
      lines[n(m.line)] = `  ${lines[n(m.line)]}`;
      break;
    case 'dedent':
      lines[n(m.line)] = lines[n(m.line)]!.replace(/^ {1,2}/, '');
      break;
    case 'swap': {
      const [a, b] = [n(m.line), n(m.other)];
      [lines[a], lines[b]] = [lines[b]!, lines[a]!];
      break;
    }
    case 'truncate':
      return text.slice(0, m.at % (text.length + 1));
    case 'value': {
      // Replaces what follows the first `key:` on the line, keeping the key.
      const i = n(m.line);
      lines[i] = lines[i]!.replace(/^(\s*(?:- )?[\w$-]+:)\s.*$/, `$1 ${m.value}`);
      break;
    }
    case 'insert': {
      const at = m.at % (text.length + 1);
      return text.slice(0, at) + m.text + text.slice(at);
    }
  }
  return lines.join('\n');
}

describe('mutated configs', () => {
  it('load, or give mistakes that each name a line and column; never a stack trace', (t) => {
    const dir = tempDir(t);
    const env = { QUICKSTART_DB: join(dir, 'q.db'), PIPELINE_DB: join(dir, 'p.db'), CUSTOM_STEP_DB: join(dir, 'c.db'), CRM_TOKEN: 'crm-token-value' };
    let loaded = 0;
    let refused = 0;
    fc.assert(
      fc.property(fc.constantFrom(...SEEDS), fc.array(mutation, { minLength: 1, maxLength: 3 }), (seed, ms) => {
        const text = ms.reduce(mutate, seed.text);
        const r = parseConfigText(text, seed.file, env);
        if (r.ok) {
          loaded++;
          return;
        }
        refused++;
        assert.ok(r.issues.length > 0, 'a refusal lists at least one mistake');
        for (const i of r.issues) {
          assert.ok(Number.isInteger(i.line) && i.line >= 1 && Number.isInteger(i.column) && i.column >= 1, `${i.line}:${i.column} ${i.path}: ${i.message}`);
          assert.ok(i.message.length > 0);
          assert.doesNotMatch(i.message, /\n\s+at /, 'no stack trace in a message');
        }
      }),
      { numRuns: 400, interruptAfterTimeLimit: 8000, seed: Number(process.env.FC_SEED ?? Date.now() % 2 ** 31) },
    );
    t.diagnostic(`${loaded} mutated configs loaded, ${refused} refused with their lines`);
    assert.ok(refused > 0, 'the mutations reach mistakes');
  });

  it('that load start an engine and stop it cleanly, or fail with config errors at their lines', { timeout: 60_000 }, async (t) => {
    const dir = tempDir(t);
    let started = 0;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...SEEDS), fc.array(mutation, { minLength: 1, maxLength: 2 }), async (seed, ms) => {
        const n = started + 1;
        const env = { QUICKSTART_DB: join(dir, `q${n}.db`), PIPELINE_DB: join(dir, `p${n}.db`), CUSTOM_STEP_DB: join(dir, `c${n}.db`), CRM_TOKEN: 'crm-token-value' };
        const r = parseConfigText(ms.reduce(mutate, seed.text), seed.file, env);
        fc.pre(r.ok);
        if (!r.ok) return;
        const loadedConfig: LoadedConfig = {
          file: seed.file,
          baseDir: dirname(seed.file),
          config: r.config,
          warnings: r.warnings,
          issueAt: (path, message) => ({ file: seed.file, ...r.locate(path), path: formatPath(path), message }),
        };
        started++;
        let engine;
        try {
          engine = await startEngine(loadedConfig, { logger: silentLogger, port: 0, workers: false });
        } catch (e) {
          // A host name that does not resolve is the machine's matter, which check cannot see: a clear error all the same.
          if (isJunctionError(e) && e.code === 'JNC_LISTEN_FAILED') return;
          // A step that cannot start is a config mistake, reported at its line like the loader's.
          assert.ok(isJunctionError(e) && e.code === 'JNC_CONFIG_INVALID', `start-up failed with ${(e as Error).stack}`);
          const issues = (e.details?.issues ?? []) as { line: number }[];
          assert.ok(issues.length > 0 && issues.every((i) => i.line >= 1));
          return;
        }
        const health = await fetch(`${engine.url}/healthz`);
        assert.equal(health.status, 200);
        await engine.stop();
      }),
      { numRuns: 6, interruptAfterTimeLimit: 30_000, seed: Number(process.env.FC_SEED ?? Date.now() % 2 ** 31) },
    );
    assert.ok(started > 0, 'some mutated configs loaded and started');
  });
});
