/**
 * @module bench/policies
 * What the connector's policies cost: a relay through one connector to a
 * loopback sink (a POST per message, 32 in flight, keep-alive), once with
 * every policy configured and once with none, in alternating rounds of the
 * same run. The cost is the process's CPU time per message (user + system:
 * the relay's and the sink's, which is the same work on both sides), taken
 * round by round: each round's "every" against the "none" run just before it,
 * then the median of those pairs. Wall-clock rates swing with whatever else
 * the machine does; CPU time of paired rounds much less (session 8 saw the
 * median of rates put the same build at 1% and at 19%).
 *
 * "None" is the pipeline's floor: the transport, the whole-call timeout and
 * the trace slot, which costs one check when nobody listens. "Every policy" adds the GET cache (a POST passes it and invalidates
 * its path), the circuit breaker, the rate limit and the bulkhead where this
 * build has them (limits far above the load, so they count but never wait),
 * API-key auth, and a subscriber on the call events, so that the trace policy
 * times every call.
 *
 * The sink runs in this process too: both sides share it, so the difference
 * is the policies' own work per message, not a network figure.
 *
 *   node bench/policies.ts [--rounds 11] [--messages 20000] [--write]
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
  /** Microseconds of CPU per message the policies add: the median over rounds of each round's pair. */
  costUs: number;
  /** every-policy CPU time over no-policy CPU time, minus one: the median over rounds of each round's pair. */
  overhead: number;
  /** The smallest and largest of the rounds' overheads, to show the noise. */
  overheadRange: [number, number];
  /** CPU microseconds per message with no policies, median of the rounds. */
  noneCpuUs: number;
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

/** Wall seconds and process CPU seconds to send `messages` POSTs through `c`, `IN_FLIGHT` at a time. */
async function relay(c: Connector, messages: number): Promise<{ wallS: number; cpuS: number }> {
  const body = JSON.stringify({ orderId: 'A-1', email: 'ada@example.com', total: 25 });
  let next = 0;
  const started = performance.now();
  const cpu = process.cpuUsage();
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
  const used = process.cpuUsage(cpu);
  return { wallS: (performance.now() - started) / 1000, cpuS: (used.user + used.system) / 1e6 };
}

export async function runPolicies(rounds = 11, messages = 20_000): Promise<PoliciesResult> {
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
    const pairs: { none: { wallS: number; cpuS: number }; every: { wallS: number; cpuS: number } }[] = [];
    for (let r = 0; r < rounds; r++) {
      // Alternating and paired, so that a slow moment of the machine does not land on one side only.
      pairs.push({ none: await relay(none, messages), every: await relay(every, messages) });
    }
    const overheads = pairs.map((p) => p.every.cpuS / p.none.cpuS - 1);
    return {
      messages,
      rounds,
      none: messages / median(pairs.map((p) => p.none.wallS)),
      every: messages / median(pairs.map((p) => p.every.wallS)),
      costUs: (median(pairs.map((p) => p.every.cpuS - p.none.cpuS)) / messages) * 1e6,
      overhead: median(overheads),
      overheadRange: [Math.min(...overheads), Math.max(...overheads)],
      noneCpuUs: (median(pairs.map((p) => p.none.cpuS)) / messages) * 1e6,
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
    `the timeout and an idle trace slot), in ${r.rounds} alternating rounds. The sink shares the process,`,
    'so the difference is the policies\' own work per message. The cost is CPU time (user + system) per message,',
    'each round\'s "every policy" against the "no policies" run just before it, median over the rounds;',
    'messages/s are medians of the rounds\' wall-clock rates, for scale. Aim: under 10%.',
    '',
    '| connector | messages/s | CPU per message | cost per message | rounds\' costs |',
    '|---|---:|---:|---:|---|',
    `| no policies | ${r.none.toFixed(0)} | ${r.noneCpuUs.toFixed(1)} µs | | |`,
    `| every policy | ${r.every.toFixed(0)} | | ${r.costUs.toFixed(1)} µs (${(r.overhead * 100).toFixed(1)}%) | ${(r.overheadRange[0] * 100).toFixed(1)}% to ${(r.overheadRange[1] * 100).toFixed(1)}% |`,
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
  const { values } = parseArgs({ options: { rounds: { type: 'string', default: '11' }, messages: { type: 'string', default: '20000' }, write: { type: 'boolean', default: false } } });
  const result = await runPolicies(Number(values.rounds), Number(values.messages));
  console.log(policiesSection(result));
  if (values.write) {
    await writePoliciesSection(result);
    console.log(`Wrote the Policies section of ${OUT}.`);
  }
}
