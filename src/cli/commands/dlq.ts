/**
 * @module cli/commands/dlq
 * `junction dlq list | show ID | replay [ID…|--flow F|--all] | purge [ID…|--flow F|--all]`.
 * Works on the store named in the configuration, whether or not `junction run`
 * is running: a replayed message is picked up by the running workers.
 */
import type { Command } from 'commander';
import { loadConfig, type LoadedConfig } from '../../config/load.ts';
import { errors } from '../../core/errors.ts';
import { forDisplay, summaryForDisplay } from '../../observability/mask.ts';
import { openStore } from '../../store/open.ts';
import type { DeadLetterSelector, Store } from '../../store/store.ts';
import { configOption } from './options.ts';

async function withStore<T>(configFile: string, fn: (store: Store, loaded: LoadedConfig) => Promise<T>): Promise<T> {
  const loaded = await loadConfig(configFile);
  const store = openStore(loaded.config.store, { baseDir: loaded.baseDir });
  await store.migrate();
  try {
    return await fn(store, loaded);
  } finally {
    await store.close();
  }
}

/** The flow's `redact` fields: masked in what is shown, kept in the store. */
function redactedFields(loaded: LoadedConfig, flow: string): readonly string[] {
  return loaded.config.flows[flow]?.redact ?? [];
}

function selector(ids: string[], opts: { flow?: string; all?: boolean }): DeadLetterSelector {
  const given = [ids.length > 0, opts.flow !== undefined, opts.all === true].filter(Boolean).length;
  if (given !== 1) throw errors.INPUT_INVALID.create(['name dead letters by ID…, or --flow F, or --all (exactly one of them)']);
  if (opts.all) return { all: true };
  if (opts.flow !== undefined) return { flow: opts.flow };
  return { ids };
}

export function registerDlq(program: Command): void {
  const dlq = program.command('dlq').description('inspect, replay and purge dead letters');

  dlq
    .command('list')
    .description('list dead letters, newest first')
    .addOption(configOption())
    .option('--flow <flow>', 'only this flow')
    .option('--limit <n>', 'at most n', (v) => Number.parseInt(v, 10), 50)
    .option('--json', 'one JSON object per line')
    .action(async (opts: { config: string; flow?: string; limit: number; json?: boolean }) => {
      await withStore(opts.config, async (store, loaded) => {
        const listed = await store.deadLetters.list({ limit: opts.limit, ...(opts.flow === undefined ? {} : { flow: opts.flow }) });
        const rows = await Promise.all(listed.map((r) => summaryForDisplay(r, redactedFields(loaded, r.flow), store.deadLetters)));
        if (opts.json) {
          for (const r of rows) process.stdout.write(`${JSON.stringify(r)}\n`);
          return;
        }
        const total = await store.deadLetters.count(opts.flow);
        if (rows.length === 0) {
          process.stdout.write('no dead letters\n');
          return;
        }
        const table = rows.map((r) => [r.id, r.flow, String(r.attempts), r.errorCode, new Date(r.deadAt).toISOString(), r.error]);
        printTable(['ID', 'FLOW', 'ATTEMPTS', 'CODE', 'DEAD AT', 'REASON'], table);
        if (total > rows.length) process.stdout.write(`(${rows.length} of ${total}; use --limit)\n`);
      });
    });

  dlq
    .command('show')
    .description('show one dead letter: payload, reason, last response and every attempt')
    .argument('<id>')
    .addOption(configOption())
    .action(async (id: string, opts: { config: string }) => {
      await withStore(opts.config, async (store, loaded) => {
        const dl = await store.deadLetters.get(id);
        if (!dl) throw errors.DEAD_LETTER_UNKNOWN.create([id]);
        process.stdout.write(`${JSON.stringify(forDisplay(dl, redactedFields(loaded, dl.flow)), null, 2)}\n`);
      });
    });

  selectingCommand(dlq, 'replay', 'send dead letters through their flow again, with the same idempotency key', async (store, sel) => {
    const replayed = await store.deadLetters.replay(sel);
    process.stdout.write(`replayed ${plural(replayed.length, 'dead letter')}\n`);
    if ('ids' in sel) {
      const missing = sel.ids.filter((id) => !replayed.includes(id));
      if (missing.length > 0) {
        process.stderr.write(`not dead letters: ${missing.join(', ')}\n`);
        process.exitCode = 1;
      }
    }
  });

  selectingCommand(dlq, 'purge', 'delete dead letters for good', async (store, sel) => {
    const n = await store.deadLetters.purge(sel);
    process.stdout.write(`purged ${plural(n, 'dead letter')}\n`);
  });
}

/** A subcommand that acts on dead letters named by ID…, --flow F or --all. */
function selectingCommand(parent: Command, name: string, description: string, act: (store: Store, sel: DeadLetterSelector) => Promise<void>): void {
  parent
    .command(name)
    .description(description)
    .argument('[ids...]')
    .addOption(configOption())
    .option('--flow <flow>', 'every dead letter of this flow')
    .option('--all', 'every dead letter')
    .action(async (ids: string[], opts: { config: string; flow?: string; all?: boolean }) => {
      const sel = selector(ids, opts);
      await withStore(opts.config, (store) => act(store, sel));
    });
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

function printTable(head: string[], rows: string[][]): void {
  const widths = head.map((h, i) => Math.min(60, Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length))));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.slice(0, widths[i]).padEnd(widths[i] ?? 0))).join('  ');
  process.stdout.write(`${[line(head), ...rows.map(line)].join('\n')}\n`);
}
