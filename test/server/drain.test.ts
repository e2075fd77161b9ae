/**
 * Stopping (what SIGTERM and SIGINT do in `junction run`) drains: while the
 * work in flight finishes, the port stays open and answers new messages and
 * `/readyz` with 503 and `Retry-After`; only then does the server close.
 */
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, it } from 'node:test';
import { startTestEngine } from '../helpers/engine.ts';
import { serve } from '../helpers/servers.ts';

/** A receiver that holds each request until the test lets it go, and says when one has arrived. */
async function heldReceiver(t: Parameters<typeof serve>[0]) {
  let arrived!: () => void;
  const arrival = new Promise<void>((resolve) => (arrived = resolve));
  const held: ServerResponse[] = [];
  const served = await serve(t, (req: IncomingMessage, res) => {
    req.resume();
    req.on('end', () => {
      held.push(res);
      arrived();
    });
  });
  return { url: served.url, arrival, release: () => held.splice(0).forEach((res) => res.writeHead(200).end('{}')) };
}

const config = (url: string) => `
store: sqlite:./junction.db
worker: { pollMs: 20, drainMs: 60000 }
connectors:
  target: { type: rest, baseUrl: "${url}", timeoutMs: 60000 }
flows:
  orders:
    trigger: { http: { path: /hooks/orders } }
    steps: [ { deliver: { connector: target } } ]
`;

describe('draining on stop', () => {
  it('answers 503 problems with Retry-After at the trigger and /readyz while in-flight work finishes, then closes the port', async (t) => {
    const target = await heldReceiver(t);
    // Whatever fails, the held delivery is let go, so that the engine's stop does not wait out the drain.
    t.after(target.release);
    const engine = await startTestEngine(t, config(target.url));
    const post = () => fetch(`${engine.url}/hooks/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"id":1}' });

    const accepted = await post();
    assert.equal(accepted.status, 202);
    const { id } = (await accepted.json()) as { id: string };
    await target.arrival;

    const stopped = engine.stop();
    let done = false;
    void stopped.then(() => (done = true));

    const refused = await post();
    assert.equal(refused.status, 503);
    assert.match(refused.headers.get('content-type') ?? '', /^application\/problem\+json/);
    assert.equal(refused.headers.get('retry-after'), '60', 'no sooner than the drain may last');
    const problem = (await refused.json()) as { code: string; title: string; detail: string };
    assert.equal(problem.code, 'JNC_UNAVAILABLE');
    assert.equal(problem.title, 'Service Unavailable');
    assert.match(problem.detail, /shutting down/);

    const ready = await fetch(`${engine.url}/readyz`);
    assert.equal(ready.status, 503);
    assert.match(((await ready.json()) as { detail: string }).detail, /shutting down/);
    assert.equal(ready.headers.get('retry-after'), '60');
    assert.equal(done, false, 'the in-flight delivery is still held');

    target.release();
    await stopped;
    const acked = engine.settled.find((s) => s.id === id);
    assert.equal(acked?.outcome, 'ack', 'the message in flight finished during the drain');
    await assert.rejects(fetch(`${engine.url}/healthz`), 'the port is closed once the drain is over');
  });

  it('stops at once when nothing is in flight', async (t) => {
    const target = await heldReceiver(t);
    const engine = await startTestEngine(t, config(target.url));
    await engine.stop();
    await assert.rejects(fetch(`${engine.url}/healthz`));
  });
});
