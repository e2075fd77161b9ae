/**
 * A dead-letter page stays fast with 100,000 dead letters: every filter the
 * admin API and the dashboard send walks an index in the page's order and
 * stops after `limit` rows (no sort of every match, no scan of the table). Checked on
 * the query plans (EXPLAIN QUERY PLAN on SQLite, EXPLAIN on PostgreSQL), not
 * on timings, and on the answers of the store itself.
 *
 * The rows are seeded with one INSERT … SELECT in one transaction: 10 flows,
 * five common error codes (each flow has all five) and one rare one (every
 * 1,000th row), one dead letter every 25 s over about 29 days.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, it } from 'node:test';
import type { DeadLetterFilter, Store } from '../../src/store/store.ts';
import { countDeadStatement, listDeadStatement } from '../../src/store/sqlite/dead-letters.ts';
import { listDeadStatement as listDeadStatementPg } from '../../src/store/postgres/dead-letters.ts';
import { createSqliteStore } from '../../src/store/sqlite/store.ts';
import { createPostgresStore } from '../../src/store/postgres/store.ts';
import { ManualClock } from '../helpers/clock.ts';
import { PG_URL, postgresUnavailable, SchemaAdmin, schemaName } from '../helpers/db.ts';

// Asked before anything runs: the SQLite seeding below holds the event loop long enough to time a connection out.
const unavailable = await postgresUnavailable();

const N = 100_000;
const T0 = Date.UTC(2026, 10, 1);
const STEP_MS = 25_000;
const CODES = ['JNC_HTTP_REJECTED', 'JNC_HTTP_RETRYABLE', 'JNC_CONN_TIMEOUT', 'JNC_VALIDATE_FAILED', 'JNC_MAP_TYPE'];
const RARE = 'JNC_AUTH_REFUSED';

/** Row i: its flow, code and time; the SQL below computes the same from i. */
const flowOf = (i: number): string => `flow-${i % 10}`;
const codeOf = (i: number): string => (i % 1000 === 0 ? RARE : CODES[Math.floor(i / 10) % 5]!);
const deadAtOf = (i: number): number => T0 + i * STEP_MS;
/** Zero-padded, so that ids sort as the rows were made, like UUIDv7s. */
const idOf = (i: number): string => `dl-${String(i).padStart(6, '0')}`;

/** The filters a user sends: none, one field each, and all together; each with and without a page bound. */
const FILTERS: { name: string; filter: DeadLetterFilter; index: string }[] = [
  { name: 'none', filter: {}, index: 'messages_dead' },
  { name: 'flow', filter: { flow: 'flow-3' }, index: 'messages_dead_flow' },
  { name: 'rare code', filter: { code: RARE }, index: 'messages_dead_code' },
  { name: 'flow and code', filter: { flow: 'flow-3', code: 'JNC_HTTP_RETRYABLE' }, index: 'messages_dead_flow_code' },
  { name: 'flow and a code it never had', filter: { flow: 'flow-3', code: RARE }, index: 'messages_dead_flow_code' },
  { name: 'time', filter: { since: deadAtOf(20_000), until: deadAtOf(30_000) }, index: 'messages_dead' },
  { name: 'everything', filter: { flow: 'flow-0', code: RARE, since: deadAtOf(10_000), until: deadAtOf(90_000) }, index: 'messages_dead_flow_code' },
];

/** What the store must answer, from the rows' formulas: ids newest first. */
function expected(f: DeadLetterFilter): string[] {
  const out: string[] = [];
  for (let i = N - 1; i >= 0; i--) {
    if (f.flow !== undefined && flowOf(i) !== f.flow) continue;
    if (f.code !== undefined && codeOf(i) !== f.code) continue;
    if (f.since !== undefined && deadAtOf(i) < f.since) continue;
    if (f.until !== undefined && deadAtOf(i) >= f.until) continue;
    out.push(idOf(i));
  }
  return out;
}

/** Runs each filter through the store: the first page, the page after it, and the count. */
async function checkAnswers(store: Store): Promise<void> {
  for (const { name, filter } of FILTERS) {
    const all = expected(filter);
    const first = await store.deadLetters.list({ ...filter, limit: 50 });
    assert.deepEqual(first.map((d) => d.id), all.slice(0, 50), `${name}: first page`);
    if (all.length > 50) {
      const second = await store.deadLetters.list({ ...filter, limit: 50, before: first.at(-1)!.id });
      assert.deepEqual(second.map((d) => d.id), all.slice(50, 100), `${name}: second page`);
    }
    assert.equal(await store.deadLetters.count(filter), all.length, `${name}: count`);
  }
}

describe('dead letters at 100,000: SQLite', () => {
  let dir = '';
  let path = '';
  let store: Store;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'junction-dl-scale-'));
    path = join(dir, 'junction.db');
    store = createSqliteStore({ path, clock: new ManualClock(deadAtOf(N)) });
    await store.migrate();
    const db = new DatabaseSync(path);
    try {
      db.exec('BEGIN');
      db.prepare(
        `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < :last)
         INSERT INTO messages (id, flow, state, body, headers, meta, idempotency_key, attempts, created_at, run_at, updated_at,
                               error_code, error, reason, dead_at)
         SELECT printf('dl-%06d', i), 'flow-' || (i % 10), 'dead', '{"n":' || i || '}', '{}', '{}', printf('dl-%06d', i), 3,
                :t0 + i * :step, :t0 + i * :step, :t0 + i * :step,
                CASE WHEN i % 1000 = 0 THEN :rare ELSE json_extract(:codes, '$[' || ((i / 10) % 5) || ']') END,
                'failed', '["failed"]', :t0 + i * :step
         FROM n`,
      ).run({ last: N - 1, t0: T0, step: STEP_MS, rare: RARE, codes: JSON.stringify(CODES) });
      db.exec('COMMIT');
      // What the planner knows of a real database after `PRAGMA optimize`.
      db.exec('ANALYZE');
    } finally {
      db.close();
    }
  });
  after(async () => {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('seeded 100,000 dead letters', async () => {
    assert.equal(await store.deadLetters.count(), N);
  });

  it('every filtered page and count walks an index, in order, without sorting the matches', () => {
    const db = new DatabaseSync(path, { readOnly: true });
    try {
      const plan = (text: string, params: Record<string, string | number>): string[] =>
        db
          .prepare(`EXPLAIN QUERY PLAN ${text}`)
          .all(params)
          .map((r) => String(r.detail));
      for (const { name, filter, index } of FILTERS) {
        for (const after of [undefined, { deadAt: deadAtOf(60_000), id: idOf(60_000) }]) {
          const page = listDeadStatement(filter, 50, after);
          const steps = plan(page.text, page.params);
          const label = `${name}${after ? ' (next page)' : ''}: ${steps.join(' | ')}`;
          assert.ok(steps.some((s) => new RegExp(`USING (?:COVERING )?INDEX ${index}\\b`).test(s)), `expected ${index}: ${label}`);
          assert.ok(!steps.some((s) => /TEMP B-TREE/.test(s)), `sorts the matches: ${label}`);
          // A filter on flow or code seeks straight to its rows; one on time seeks to its range.
          if (filter.flow !== undefined || filter.code !== undefined || filter.since !== undefined || after) {
            assert.ok(steps.some((s) => /^SEARCH messages USING/.test(s)), `seeks: ${label}`);
          }
        }
        const count = countDeadStatement(filter);
        const steps = plan(count.text, count.params);
        assert.ok(!steps.some((s) => /^SCAN messages$/.test(s)), `count ${name}: ${steps.join(' | ')}`);
      }
    } finally {
      db.close();
    }
  });

  it('answers each filter with the right page, the page after it, and the count', async () => {
    await checkAnswers(store);
  });
});

/** More matches than this must come from an index in order, not from a sort. */
const SMALL_SORT = 1000;

/** Every node of an EXPLAIN (FORMAT JSON) plan. */
function nodes(plan: unknown): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(visit);
    else if (typeof v === 'object' && v !== null) {
      const o = v as Record<string, unknown>;
      if (typeof o['Node Type'] === 'string') out.push(o);
      for (const child of Object.values(o)) visit(child);
    }
  };
  visit(plan);
  return out;
}

describe('dead letters at 100,000: PostgreSQL', { skip: unavailable }, () => {
  const schema = schemaName('test/store/dead-letter-scale.test.ts', 'postgres');
  const admin = new SchemaAdmin();
  let store: Store;
  let passed = true;

  before(async () => {
    await admin.create(schema);
    store = createPostgresStore({ url: PG_URL, schema, clock: new ManualClock(deadAtOf(N)) });
    await store.migrate();
    // One statement, so one transaction.
    await admin.query(
      `INSERT INTO ${schema}.messages (id, flow, state, body, headers, meta, idempotency_key, attempts, created_at, run_at, updated_at,
                                       error_code, error, reason, dead_at)
       SELECT 'dl-' || lpad(i::text, 6, '0'), 'flow-' || (i % 10), 'dead', '{"n":' || i || '}', '{}', '{}', 'dl-' || lpad(i::text, 6, '0'), 3,
              $1::bigint + i * $2::bigint, $1::bigint + i * $2::bigint, $1::bigint + i * $2::bigint,
              CASE WHEN i % 1000 = 0 THEN $3 ELSE ($4::text[])[(i / 10) % 5 + 1] END,
              'failed', '["failed"]', $1::bigint + i * $2::bigint
       FROM generate_series(0, $5::integer - 1) AS i`,
      [T0, STEP_MS, RARE, CODES, N],
    );
    await admin.query(`ANALYZE ${schema}.messages`);
  });
  after(async () => {
    await store?.close();
    if (passed) await admin.drop(schema);
    await admin.end();
  });

  it('every filtered page walks an index, in order, without sorting the matches', async (t) => {
    try {
      for (const { name, filter } of FILTERS) {
        for (const after of [undefined, { deadAt: deadAtOf(60_000), id: idOf(60_000) }]) {
          const page = listDeadStatementPg(filter, 50, after);
          await admin.query(`SET search_path TO ${schema}`);
          const { rows } = await admin.query(`EXPLAIN (FORMAT JSON) ${page.text}`, page.values);
          const plan = JSON.stringify(rows[0]?.['QUERY PLAN']);
          const label = `${name}${after ? ' (next page)' : ''}: ${plan}`;
          assert.match(plan, /"Index Name":"messages_dead(_flow|_code|_flow_code)?"/, label);
          assert.doesNotMatch(plan, /"Node Type":"Seq Scan"/, label);
          // PostgreSQL may sort what a seek found when it expects few rows (a rare code in a time range): never many.
          for (const sort of nodes(rows[0]?.['QUERY PLAN']).filter((n) => n['Node Type'] === 'Sort')) {
            assert.ok(Number(sort['Plan Rows']) < SMALL_SORT, `sorts ${String(sort['Plan Rows'])} rows: ${label}`);
          }
        }
      }
    } catch (e) {
      passed = false;
      t.diagnostic(`schema kept: ${schema}`);
      throw e;
    }
  });

  it('answers each filter with the right page, the page after it, and the count', async () => {
    try {
      await checkAnswers(store);
    } catch (e) {
      passed = false;
      throw e;
    }
  });
});
