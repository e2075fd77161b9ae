/**
 * Stopping (what SIGTERM and SIGINT do in `junction run`) drains: while the
 * work in flight finishes, the port stays open and answers new messages and
 * `/readyz` with 503 and `Retry-After`; only then does the server close.
 */
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { subscribe } from '../../src/observability/channels.ts';
import { startTestEngine, until } from '../helpers/engine.ts';
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

  it('ends a keep-alive connection whose request is still under way when the server closes, rather than waiting out its idle timeout', async (t) => {
    const target = await heldReceiver(t);
    const engine = await startTestEngine(t, config(target.url));
    const started = new Promise<void>((resolve) => t.after(subscribe('ingress:start', () => resolve())));
    // A sender on a keep-alive connection whose body is still coming when the stop begins.
    const { port } = new URL(engine.url);
    const socket = connect(Number(port), '127.0.0.1');
    const socketErrors: Error[] = [];
    socket.on('error', (e) => socketErrors.push(e));
    let answer = '';
    socket.setEncoding('utf8').on('data', (chunk: string) => (answer += chunk));
    const ended = new Promise<void>((resolve) => socket.once('end', () => resolve()));
    socket.write('POST /hooks/orders HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\nContent-Type: application/json\r\nContent-Length: 8\r\n\r\n{"id":');
    await started;

    const stopped = engine.stop();
    // The server has begun to close (it no longer listens) with this request in flight: only then does the body end.
    await until(() => !engine.app.server.listening, 10_000, 5);
    socket.write('1}');

    try {
      // Without the fix both waited for the connection's idle timeout (72 s); a regression fails well before.
      const late = new Promise<'late'>((resolve) => setTimeout(resolve, 20_000, 'late').unref());
      assert.equal(await Promise.race([ended.then(() => 'ended' as const), late]), 'ended', `the server kept the connection open after answering: ${answer}`);
      assert.match(answer, /^HTTP\/1\.1 503 /, 'answered as the drain answers');
      assert.match(answer, /\r\nconnection: close\r\n/i, 'the answer ends the connection');
      assert.equal(await Promise.race([stopped.then(() => 'stopped' as const), late]), 'stopped', 'the stop still waits for the connection');
      assert.deepEqual(socketErrors, []);
    } finally {
      // Before the engine's own after-hook, which would otherwise wait for this connection on a failure.
      socket.destroy();
    }
  });

  it('stops at once when nothing is in flight', async (t) => {
    const target = await heldReceiver(t);
    const engine = await startTestEngine(t, config(target.url));
    await engine.stop();
    await assert.rejects(fetch(`${engine.url}/healthz`));
  });
});
