/**
 * A streamed CSV upload that cannot be read is the sender's mistake, told with a
 * 4xx problem, never a 500: CSV the parser refuses, whatever it calls the error
 * (csv-parse names one INVALID_OPENING_QUOTE, without the CSV_ prefix of the
 * others), and a request with no body and no content type at all.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startIngressEngine, storedCount } from '../helpers/ingress.ts';

const FLOWS = `
  imports:
    trigger: { http: { path: /imports, records: { format: csv } } }
    steps: [ { deliver: { connector: sink } } ]
`;

describe('records: uploads that cannot be read', () => {
  it('a quote opened inside a field (INVALID_OPENING_QUOTE) is a 400 with the line, nothing stored', async (t) => {
    const engine = await startIngressEngine(t, FLOWS);
    for (const payload of ['<?xml version="1.0"?>', 'id,name\n1,Ada\n2,a"b\n']) {
      const res = await engine.app.inject({ method: 'POST', url: '/imports', headers: { 'content-type': 'text/csv' }, payload });
      assert.equal(res.statusCode, 400, res.body);
      const problem = res.json() as { code: string; detail: string; stored: number };
      assert.equal(problem.code, 'JNC_INPUT_INVALID');
      assert.match(problem.detail, /^Request is invalid: CSV line \d+: Invalid Opening Quote/);
      assert.equal(problem.stored, 0);
    }
    assert.equal(await storedCount(engine), 0);
  });

  it('a request with no body and no content type is a 415 that names text/csv', async (t) => {
    const engine = await startIngressEngine(t, FLOWS);
    const res = await engine.app.inject({ method: 'POST', url: '/imports' });
    assert.equal(res.statusCode, 415, res.body);
    const problem = res.json() as { code: string; detail: string };
    assert.equal(problem.code, 'JNC_INPUT_UNSUPPORTED_TYPE');
    assert.match(problem.detail, /send text\/csv/);
    const empty = await engine.app.inject({ method: 'POST', url: '/imports', headers: { 'content-type': 'text/csv' } });
    assert.equal(empty.statusCode, 202, 'an empty CSV upload is zero records');
    assert.deepEqual(empty.json(), { count: 0, created: 0, duplicates: 0 });
    assert.equal(await storedCount(engine), 0);
  });
});
