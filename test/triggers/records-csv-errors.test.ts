/**
 * A streamed CSV upload that the parser refuses is the sender's mistake, whatever
 * the parser calls it: 400 with the line, never a 500. (csv-parse names one of
 * its errors INVALID_OPENING_QUOTE, without the CSV_ prefix of the others.)
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startIngressEngine, storedCount } from '../helpers/ingress.ts';

describe('records: CSV the parser refuses', () => {
  it('a quote opened inside a field (INVALID_OPENING_QUOTE) is a 400 with the line, nothing stored', async (t) => {
    const engine = await startIngressEngine(t, `
  imports:
    trigger: { http: { path: /imports, records: { format: csv } } }
    steps: [ { deliver: { connector: sink } } ]
`);
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
});
