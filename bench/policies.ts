/**
 * @module bench/policies
 * What the connector's policies cost: a relay through one connector to a
 * loopback sink (a POST per message, 32 in flight, keep-alive), once with
 * every policy configured and once with none, in alternating rounds of the
 * same run (median of each). "None" is the pipeline's floor: the transport, the
 * whole-call timeout and the trace slot, which costs one check when nobody
 * listens. "Every policy" adds the GET cache (a POST passes it and invalidates
 * its path), the circuit breaker, the rate limit and the bulkhead where this
 * build has them (limits far above the load, so they count but never wait),
 * API-key auth, and a subscriber on the call events, so that the trace policy
 * times every call.
 *
 * The sink runs in this process too: both sides share it, so the difference
 * is the policies' own work per message, not a network figure.
 *
 *   node bench/policies.ts [--rounds 7] [--messages 4000] [--write]
 *
 * `--write` replaces the "Policies" section of BENCHMARKS.md (bench/run.ts
 * writes it with the others).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { connectorEntry } from '../src/config/schema.ts';
import { connectorTypes, createConnector } from '../src/connectors/registry.ts';
import type { Connector } from '../src/connectors/connector.ts';
import { subscribe } from '../src/observability/channels.ts';
import { median } from './lib/load.ts';

export interface PoliciesResult {
  messages: number;
  rounds: number;
  /** Messages per second, median of the rounds. */
  none: number;
  every: number;
  /** Microseconds per message the policies add, from the medians. */
  costUs: number;
  /** every-policy time over no-policy time, minus one. */
  overhead: number;
  policies: string[];
}

const IN_FLIGHT = 32;

/** The optional policy keys this build's rest connector accepts, with settings that never make a call wait. */
function everyPolicy(): Record<string, unknown> {
  const all: Record<string, unknown> = {
    auth: { apiKey: { header: 'X-Api-Key', value: 'bench-key-0123456789' } },
    cache: { ttlMs: 60_000 },
    circuitBreaker: { failureRatio: 0.5, minRequests: 20, windowMs: 10_000, openMs: 30_000 },
    rateLimit: { perSecond: 1_000_000, burst: 1_000_000 },
    concurrency: 1024,
  };
  const shape = (connectorTypes.get('rest')?.options as { shape?: Record<string, unknown> } | undefined)?.shape ?? {};
  return Object.fromEntries(Object.entries(all).filter(([key]) => key in shape));
}

async function startSink(): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json', 'content-length': '11' }).end('{"ok":true}'));
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(() => r())) };
}

/** Seconds to send `messages` POSTs through `c`, `IN_FLIGHT` at a time. */
async function relay(c: Connector, messages: number): Promise<number> {
  const body = JSON.stringify({ orderId: 'A-1', email: 'ada@example.com', total: 25 });
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < messages) {
        const i = next++;
        const res = await c.call(
          { method: 'POST', path: '/orders', body, headers: { 'content-type': 'application/json' }, idempotencyKey: `order-${i}` },
          { signal: AbortSignal.timeout(10_000) },
        );
        if (c.classify(res) !== 'ok') throw new Error(`the sink answered ${res.status}`);
      }
    }),
  );
  return (performance.now() - started) / 1000;
}

export async function runPolicies(rounds = 7, messages = 4000): Promise<PoliciesResult> {
  const sink = await startSink();
  const policies = everyPolicy();
  const make = (extra: Record<string, unknown>): Connector => createConnector('bench', connectorEntry.parse({ type: 'rest', baseUrl: sink.url, pool: { connections: 16 }, ...extra }));
  const none = make({});
  const every = make(policies);
  // The trace policy times a call only when someone listens: here someone does, as metrics will.
  const off = [subscribe('call:start', () => {}), subscribe('call:end', () => {})];
  try {
    await relay(none, messages / 4);
    await relay(every, messages / 4);
    const noneTimes: number[] = [];
    const everyTimes: number[] = [];
    for (let r = 0; r < rounds; r++) {
      // Alternating, so that a slow moment of the machine does not land on one side only.
      noneTimes.push(await relay(none, messages));
      everyTimes.push(await relay(every, messages));
    }
    const noneS = median(noneTimes);
    const everyS = median(everyTimes);
    return {
      messages,
      rounds,
      none: messages / noneS,
      every: messages / everyS,
      costUs: ((everyS - noneS) / messages) * 1e6,
      overhead: everyS / noneS - 1,
      policies: ['trace (listened to)', 'timeout', ...Object.keys(policies)],
    };
  } finally {
    off.forEach((o) => o());
    await Promise.all([none.close(), every.close()]);
    await sink.close();
  }
}

export function policiesSection(r: PoliciesResult): string {
  return [
    '## Policies: a relay through a connector with every policy on, against none',
    '',
    `In one process (bench/policies.ts): ${r.messages} POSTs per round through one rest connector to a loopback sink,`,
    `${IN_FLIGHT} in flight over keep-alive sockets, once with every policy configured (${r.policies.join(', ')};`,
    'limits far above the load, so they count but never make a call wait) and once with none (the transport,',
    `the timeout and an idle trace slot), in alternating rounds; median of ${r.rounds}. The sink shares the process,`,
    'so the difference is the policies\' own work per message. Aim: under 10%.',
    '',
    '| connector | messages/s | cost per message |',
    '|---|---:|---:|',
    `| no policies | ${r.none.toFixed(0)} | |`,
    `| every policy | ${r.every.toFixed(0)} | ${r.costUs.toFixed(1)} µs (${(r.overhead * 100).toFixed(1)}%) |`,
    '',
  ].join('\n');
}

const OUT = fileURLToPath(new URL('../BENCHMARKS.md', import.meta.url));

/** Replaces the Policies section of BENCHMARKS.md (or adds it at the end). */
export async function writePoliciesSection(r: PoliciesResult): Promise<void> {
  const text = await readFile(OUT, 'utf8');
  const start = text.indexOf('## Policies:');
  const section = policiesSection(r);
  if (start < 0) return writeFile(OUT, `${text.trimEnd()}\n\n${section}`);
  const end = text.indexOf('\n## ', start + 1);
  await writeFile(OUT, text.slice(0, start) + section + (end < 0 ? '' : text.slice(end + 1)));
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { rounds: { type: 'string', default: '7' }, messages: { type: 'string', default: '4000' }, write: { type: 'boolean', default: false } } });
  const result = await runPolicies(Number(values.rounds), Number(values.messages));
  console.log(policiesSection(result));
  if (values.write) {
    await writePoliciesSection(result);
    console.log(`Wrote the Policies section of ${OUT}.`);
  }
}
