/**
 * Every refusal is an RFC 9457 problem whose title names its status, never a
 * generic "Error": the catalog's statuses, the respond step's 502 and 504, and
 * a status fastify hands over.
 */
import assert from 'node:assert/strict';
import { STATUS_CODES } from 'node:http';
import { describe, it } from 'node:test';
import { errors } from '../../src/core/errors.ts';
import { problemFor, STORE_RETRY_AFTER_MS, toProblem } from '../../src/server/problem.ts';
import { startTestEngine } from '../helpers/engine.ts';
import { startTestSink } from '../helpers/sink.ts';

describe('problem titles', () => {
  it('every code of the catalog with a status gets the title of that status', () => {
    const withStatus = Object.values(errors).filter((def) => def.status !== undefined);
    assert.ok(withStatus.length > 20);
    for (const def of withStatus) {
      const { title, status } = toProblem(def.create(['x', 1, 'y', 2]));
      assert.notEqual(title, 'Error', def.code);
      assert.equal(status, def.status, def.code);
    }
    assert.equal(toProblem(errors.FLOW_FAILED.create(['x'])).title, 'Bad Gateway');
    assert.equal(toProblem(errors.RESPOND_TIMEOUT.create([100])).title, 'Gateway Timeout');
  });

  it('keeps the RFC 9110 names where older ones linger (413 Content Too Large, 422 Unprocessable Content)', () => {
    assert.equal(toProblem(errors.INPUT_TOO_LARGE.create([1])).title, 'Content Too Large');
    assert.equal(toProblem(errors.INPUT_REFUSED.create(['x'])).title, 'Unprocessable Content');
  });

  it('names any other status a refusal may carry, e.g. 414 or 431 from the HTTP layer', () => {
    for (let status = 400; status < 600; status++) {
      if (STATUS_CODES[status] === undefined) continue;
      assert.notEqual(toProblem(errors.INPUT_INVALID.create(['x'], { status })).title, 'Error', String(status));
    }
  });

  it("the respond step's 502, when the flow dies before answering, is titled Bad Gateway", async (t) => {
    const sink = await startTestSink(t);
    sink.setDefault('400');
    const engine = await startTestEngine(
      t,
      `
store: sqlite:./junction.db
worker: { pollMs: 20 }
connectors:
  sink: { type: rest, baseUrl: "${sink.url}" }
flows:
  checked:
    trigger: { http: { path: /checked } }
    steps:
      - deliver: { connector: sink }
      - respond: { timeoutMs: 5000 }
`,
    );
    const res = await fetch(`${engine.url}/checked`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
    assert.equal(res.status, 502);
    const problem = (await res.json()) as { code: string; title: string };
    assert.equal(problem.code, 'JNC_FLOW_FAILED');
    assert.equal(problem.title, 'Bad Gateway');
  });

  it('a store that is down is a 503 with Retry-After whose detail does not name the database (the log does)', () => {
    const cause = errors.STORE_UNAVAILABLE.create(['enqueue failed: cannot reach PostgreSQL at db.internal:5432/junction: connect ECONNREFUSED']);
    const err = problemFor(cause, { bodyLimit: 1024, contentType: 'application/json', accepts: ['application/json'] });
    const problem = toProblem(err);
    assert.deepEqual([problem.status, problem.title, problem.code, err.retryAfterMs], [503, 'Service Unavailable', 'JNC_STORE_UNAVAILABLE', STORE_RETRY_AFTER_MS]);
    assert.doesNotMatch(problem.detail, /db\.internal/);
    assert.equal(err.cause, cause, 'the cause is kept for the log');
  });
});
