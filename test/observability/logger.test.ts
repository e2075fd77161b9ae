/**
 * @module test/observability/logger
 * The log format (pretty only for a person at a terminal, unless configured),
 * secrets cut out of pretty lines too, and the fields of the worker's lines
 * about an attempt: messageId, flow, connector, attempt and the trace id.
 */
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { stripVTControlCharacters } from 'node:util';
import { createLogger, logFormat } from '../../src/observability/logger.ts';
import { scrubber } from '../../src/observability/redact.ts';
import { startTestEngine } from '../helpers/engine.ts';
import { startTestSink } from '../helpers/sink.ts';

/** A stream that collects what is written, and says it is (or is not) a terminal. */
function capture(isTTY: boolean): PassThrough & { isTTY: boolean; text(): string } {
  const chunks: string[] = [];
  const stream = Object.assign(new PassThrough(), { isTTY, text: () => chunks.join('') });
  stream.on('data', (c: Buffer) => chunks.push(c.toString()));
  return stream;
}

describe('log format', () => {
  it('is pretty for a terminal and JSON otherwise, unless the config says which', () => {
    assert.equal(logFormat(undefined, { isTTY: true }), 'pretty');
    assert.equal(logFormat(undefined, { isTTY: false }), 'json');
    assert.equal(logFormat(undefined, {}), 'json');
    assert.equal(logFormat('json', { isTTY: true }), 'json');
    assert.equal(logFormat('pretty', { isTTY: false }), 'pretty');
  });

  it('writes JSON lines to a pipe and readable lines to a terminal, with secrets cut out of both', async () => {
    for (const isTTY of [false, true]) {
      const out = capture(isTTY);
      const logger = createLogger({ destination: out, scrub: scrubber(['s3cret-value']) });
      logger.info({ messageId: 'm-1', flow: 'orders' }, 'the sink said s3cret-value');
      logger.flush();
      await new Promise((r) => setImmediate(r));
      const text = out.text();
      assert.doesNotMatch(text, /s3cret-value/);
      if (isTTY) {
        assert.throws(() => JSON.parse(text), 'a terminal gets pino-pretty lines');
        assert.notEqual(stripVTControlCharacters(text), text, 'in colour');
        assert.match(stripVTControlCharacters(text), /INFO \(\d+\): the sink said \[redacted\]\n\s+messageId: "m-1"/);
      } else {
        const line = JSON.parse(text) as Record<string, unknown>;
        assert.equal(line.msg, 'the sink said [redacted]');
        assert.equal(line.messageId, 'm-1');
      }
    }
  });
});

describe("the worker's attempt lines", () => {
  it('carry messageId, flow, connector, attempt and the trace id, with tracing off', async (t) => {
    const sink = await startTestSink(t);
    const out = capture(false);
    const engine = await startTestEngine(
      t,
      `
store: sqlite:./junction.db
worker: { pollMs: 20 }
connectors:
  sink: { type: rest, baseUrl: "${sink.url}", retry: { maxAttempts: 3, baseMs: 1, maxMs: 5 } }
flows:
  orders:
    trigger: { http: { path: /orders } }
    steps:
      - deliver: { connector: sink, request: { path: /orders } }
`,
      { logger: createLogger({ destination: out, level: 'info' }) },
    );
    sink.plan(['503']);
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const id = (await engine.post('/orders', { id: 1 }, { traceparent: `00-${traceId}-00f067aa0ba902b7-01` })).json.id;
    await engine.until(() => engine.settled.some((e) => e.outcome === 'ack'));
    const retryLine = out
      .text()
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.code === 'JNC_HTTP_RETRYABLE');
    assert.ok(retryLine, 'the retry is logged');
    assert.deepEqual(
      { messageId: retryLine.messageId, flow: retryLine.flow, connector: retryLine.connector, attempt: retryLine.attempt, traceId: retryLine.traceId },
      { messageId: id, flow: 'orders', connector: 'sink', attempt: 1, traceId },
    );
  });
});
