/**
 * @module cli/commands/status
 * `junction status`: the overview of a Junction, as a table or `--json`. Per
 * flow, from the store (every node's work): messages by state, how long the
 * oldest queued one has waited, dead letters. From a running server's admin
 * API, when one answers and `server.adminToken` is available: that server's
 * rates, error ratios and p95 over the last minute, and its circuits. Without
 * one, the store part still prints, and the reason the live part is missing.
 */
import type { Command } from 'commander';
import type { ConfigIssue } from '../../config/issue.ts';
import { loadStoreConfig } from '../../config/load-store.ts';
import { isJunctionError } from '../../core/errors.ts';
import type { WindowFigures } from '../../observability/live-stats.ts';
import { openStore } from '../../store/open.ts';
import { liveStatus, serverUrl, type LiveStatus } from '../status/live.ts';
import { formatAge, storeOverview, type FlowOverview } from '../status/overview.ts';
import { printTable } from '../table.ts';
import { configOption } from './options.ts';

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('per flow: messages by state, oldest queued, dead letters; live rates, errors, p95 and circuits from a running server')
    .addOption(configOption())
    .option('--url <url>', 'the running server to ask for live figures (default: from server.host and server.port)')
    .option('--json', 'print the overview as one JSON object')
    .action(async (opts: { config: string; url?: string; json?: boolean }) => {
      const loaded = await loadStoreConfig(opts.config);
      const store = openStore(loaded.config.store.url, { baseDir: loaded.baseDir });
      let flows: FlowOverview[];
      try {
        await store.migrate();
        flows = await storeOverview(store, Object.keys(loaded.config.flows), Date.now());
      } finally {
        await store.close();
      }
      const live = await readLive(opts.config, opts.url);
      if (opts.json) process.stdout.write(`${JSON.stringify(asJson(flows, live))}\n`);
      else printStatus(flows, live);
    });
}

/** The live part; a `server` section that cannot be read (its token's variable unset) makes it unavailable, not the command fail. */
async function readLive(configFile: string, url: string | undefined): Promise<LiveStatus> {
  try {
    const { server } = (await loadStoreConfig(configFile, { server: true })).config;
    if (server === undefined) throw new Error('no server section read');
    return await liveStatus(url ?? serverUrl(server), server.adminToken);
  } catch (e) {
    const issues = isJunctionError(e) ? (e.details?.issues as ConfigIssue[] | undefined) : undefined;
    const reason = issues ? issues.map((i) => `${i.path}: ${i.message}`).join('; ') : (e as Error).message;
    return { available: false, url, reason };
  }
}

function asJson(flows: FlowOverview[], live: LiveStatus): unknown {
  const byName = new Map(live.available ? live.flows.map((f) => [f.name, f.live]) : []);
  return {
    flows: flows.map((f) => ({
      name: f.name,
      messages: f.messages,
      deadLetters: f.messages.dead,
      oldestQueuedMs: f.oldestQueuedMs ?? null,
      ...(byName.has(f.name) ? { live: byName.get(f.name) } : {}),
    })),
    ...(live.available ? { connectors: live.connectors } : {}),
    live: live.available ? { available: true, url: live.url } : { available: false, url: live.url ?? null, reason: live.reason },
  };
}

function printStatus(flows: FlowOverview[], live: LiveStatus): void {
  const byName = new Map(live.available ? live.flows.map((f) => [f.name, f.live]) : []);
  const head = ['FLOW', 'QUEUED', 'RUNNING', 'DONE', 'DEAD', 'OLDEST QUEUED', ...(live.available ? ['RATE/S', 'ERRORS', 'P95'] : [])];
  const rows = flows.map((f) => {
    const m = f.messages;
    const store = [f.name, String(m.queued), String(m.running), String(m.done), String(m.dead), f.oldestQueuedMs === undefined ? '-' : formatAge(f.oldestQueuedMs)];
    return live.available ? [...store, ...figures(byName.get(f.name))] : store;
  });
  printTable(head, rows);
  if (!live.available) {
    process.stdout.write(`\nlive figures unavailable: ${live.reason}\n`);
    return;
  }
  if (live.connectors.length > 0) {
    process.stdout.write('\n');
    printTable(['CONNECTOR', 'TYPE', 'CIRCUIT', 'RATE/S', 'ERRORS', 'P95'], live.connectors.map((c) => [c.name, c.type, c.circuit ?? '-', ...figures(c.live)]));
  }
  process.stdout.write(`\nlive figures: the last minute of the server at ${live.url}\n`);
}

/** Rate (successes per second), error ratio as a percentage, p95 in ms; dashes when the server has no figures for it. */
function figures(w: WindowFigures | undefined): string[] {
  if (w === undefined) return ['-', '-', '-'];
  return [w.rate.toFixed(1), `${(100 * w.errorRatio).toFixed(1)}%`, w.p95Ms === undefined ? '-' : `${Math.round(w.p95Ms)}ms`];
}
