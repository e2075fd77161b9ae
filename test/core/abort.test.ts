import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { abortError, untilAborted } from '../../src/core/abort.ts';
import { errors, isJunctionError } from '../../src/core/errors.ts';

describe('abortError', () => {
  it('returns the reason itself when the abort carries a JunctionError (a deadline, a shutdown)', () => {
    const timeout = errors.CONN_TIMEOUT.create(['crm', 'call', 50]);
    const c = new AbortController();
    c.abort(timeout);
    assert.equal(abortError(c.signal, new Error('socket closed')), timeout);
  });

  it('turns any other reason into JNC_SHUTDOWN, paused, with the reason as cause', () => {
    const c = new AbortController();
    c.abort();
    const e = abortError(c.signal);
    assert.ok(isJunctionError(e));
    assert.equal(e.code, 'JNC_SHUTDOWN');
    assert.equal(e.family, 'paused');
    assert.equal(e.cause, c.signal.reason);
  });

  it('keeps the given cause (what the layer below threw) instead of the reason', () => {
    const c = new AbortController();
    c.abort('stop');
    const below = new Error('UND_ERR_ABORTED');
    assert.equal(abortError(c.signal, below).cause, below);
  });
});

describe('untilAborted', () => {
  it('rejects with what reasonOf makes of the signal as soon as it aborts, the work going on', async () => {
    const c = new AbortController();
    const never = new Promise<never>(() => {});
    const waiting = untilAborted(never, c.signal, abortError);
    c.abort(new Error('caller gave up'));
    await assert.rejects(waiting, { code: 'JNC_SHUTDOWN' });
  });

  it('settles with the promise when it settles first', async () => {
    const c = new AbortController();
    assert.equal(await untilAborted(Promise.resolve(7), c.signal), 7);
  });
});
