/**
 * @module cli/commands/dlq
 * `junction dlq list | show ID | replay [ID…|--flow F|--all] | purge [ID…|--flow F|--all]`;
 * list, replay and purge also filter by `--code` and `--since`/`--until`, as the admin API does.
 * Works on the store named in the configuration, whether or not `junction run`
 * is running: a replayed message is picked up by the running workers. Reads
 * only the store part of the configuration (config/load-store), so a shell
 * without the connectors' secrets can still do all of this. Times are ISO 8601.
 */
import type { Command } from 'commander';
import { loadStoreConfig, type LoadedStoreConfig } from '../../config/load-store.ts';
import { errors } from '../../core/errors.ts';
import { forDisplay, summaryForDisplay } from '../../observability/mask.ts';
import { DEFAULT_PAGE, MAX_PAGE } from '../../server/plugins/admin.ts';
import { openStore } from '../../store/open.ts';
import { chooseProgress, startProgress } from '../progress.ts';
import { printTable } from '../table.ts';
import type { DeadLetterFilter, DeadLetterSelector, Store } from '../../store/store.ts';
import { configOption, integerIn, isoTime } from './options.ts';

async function withStore<T>(configFile: string, fn: (store: Store, loaded: LoadedStoreConfig) => Promise<T>): Promise<T> {
  const loaded = await loadStoreConfig(configFile);
  const store = openStore(loaded.config.store.url, { baseDir: loaded.baseDir });
  await store.migrate();
  try {
    return await fn(store, loaded);
  } finally {
    await store.close();
  }
}

/** The flow's `redact` fields: masked in what is shown, kept in the store. */
function redactedFields(loaded: LoadedStoreConfig, flow: string): readonly string[] {
  return loaded.config.flows[flow]?.redact ?? [];
}

/**
 * `--flow F` must name a configured flow, or one whose dead letters are still
 * stored (the flow was removed since): anything else is a typo, which would
 * otherwise read as "no dead letters".
 */
async function checkFlow(store: Store, loaded: LoadedStoreConfig, flow: string | undefined): Promise<void> {
  if (flow === undefined || Object.hasOwn(loaded.config.flows, flow)) return;
  if ((await store.deadLetters.count(flow)) > 0) return;
  throw errors.DLQ_FLOW_UNKNOWN.create([JSON.stringify(flow), Object.keys(loaded.config.flows).join(', ')]);
}

interface FilterOptions {
  flow?: string;
  code?: string;
  since?: number;
  until?: number;
}

/** The filter options given, as a store filter. */
function filterOf(opts: FilterOptions): DeadLetterFilter {
  const f: DeadLetterFilter = {};
  if (opts.flow !== undefined) f.flow = opts.flow;
  if (opts.code !== undefined) f.code = opts.code;
  if (opts.since !== undefined) f.since = opts.since;
  if (opts.until !== undefined) f.until = opts.until;
  return f;
}

/** Exactly one of ID…, a filter (--flow, --code, --since, --until), --all; anything else is a usage error (exit 2). */
function selector(ids: string[], opts: FilterOptions & { all?: boolean }, cmd: Command): DeadLetterSelector {
  const filter = filterOf(opts);
  const filtered = Object.keys(filter).length > 0;
  const given = [ids.length > 0, filtered, opts.all === true].filter(Boolean).length;
  if (given !== 1) cmd.error('error: name dead letters by ID…, or a filter (--flow F, --code C, --since T, --until T), or --all (exactly one of them)');
  if (opts.all) return { all: true };
  if (filtered) return Object.keys(filter).length === 1 && filter.flow !== undefined ? { flow: filter.flow } : { filter };
  return { ids };
}

function filterOptions(cmd: Command, flowHelp: string): Command {
  return cmd
    .option('--flow <flow>', flowHelp)
    .option('--code <code>', 'only those whose error code is this (e.g. JNC_HTTP_REJECTED)')
    .option('--since <time>', 'only those dead-lettered at or after this ISO 8601 time', isoTime)
    .option('--until <time>', 'only those dead-lettered before this ISO 8601 time', isoTime);
}

/** Epoch milliseconds in any `…At` field, however deep, as ISO 8601: one format for every time shown. */
function isoTimes(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(isoTimes);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, /At$/.test(k) && typeof v === 'number' && Number.isFinite(v) ? new Date(v).toISOString() : isoTimes(v)]),
  );
}

export function registerDlq(program: Command): void {
  const dlq = program.command('dlq').description('inspect, replay and purge dead letters');

  filterOptions(dlq.command('list').description('list dead letters, newest first').addOption(configOption()), 'only this flow')
    .option('--limit <n>', `at most n, from 1 to ${MAX_PAGE}`, integerIn(1, MAX_PAGE), DEFAULT_PAGE)
    .option('--json', 'one JSON object per line')
    .action(async (opts: FilterOptions & { config: string; limit: number; json?: boolean }) => {
      await withStore(opts.config, async (store, loaded) => {
        await checkFlow(store, loaded, opts.flow);
        const filter = filterOf(opts);
        const listed = await store.deadLetters.list({ ...filter, limit: opts.limit });
        const rows = await Promise.all(listed.map((r) => summaryForDisplay(r, redactedFields(loaded, r.flow), store.deadLetters)));
        if (opts.json) {
          for (const r of rows) process.stdout.write(`${JSON.stringify(isoTimes(r))}\n`);
          return;
        }
        const total = await store.deadLetters.count(filter);
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
        // The message's own key is not always the one sent (a deliver template renders its own): named apart
        // from `idempotencyKey`, which each attempt in the history carries as it was sent.
        const { id: _, idempotencyKey: messageKey, ...rest } = forDisplay(dl, redactedFields(loaded, dl.flow));
        process.stdout.write(`${JSON.stringify(isoTimes({ id: dl.id, messageKey, ...rest }), null, 2)}\n`);
      });
    });

  selectingCommand(dlq, 'replay', 'send dead letters through their flow again, with the same idempotency key', async (store, sel, opts) => {
    if (!('ids' in sel)) {
      const n = await inPages(store, sel, 'replay', opts.progress, async (ids) => (await store.deadLetters.replay({ ids })).length);
      process.stdout.write(`replayed ${plural(n, 'dead letter')}\n`);
      return;
    }
    const replayed = await store.deadLetters.replay(sel);
    process.stdout.write(`replayed ${plural(replayed.length, 'dead letter')}\n`);
    const missing = sel.ids.filter((id) => !replayed.includes(id));
    if (missing.length > 0) {
      process.stderr.write(`not dead letters: ${missing.join(', ')}\n`);
      process.exitCode = 1;
    }
  });

  selectingCommand(dlq, 'purge', 'delete dead letters for good', async (store, sel, opts) => {
    const n = 'ids' in sel ? await store.deadLetters.purge(sel) : await inPages(store, sel, 'purge', opts.progress, (ids) => store.deadLetters.purge({ ids }));
    process.stdout.write(`purged ${plural(n, 'dead letter')}\n`);
  });
}

/** The store filter a selector other than ids stands for. */
function filterOfSelector(sel: Exclude<DeadLetterSelector, { ids: string[] }>): DeadLetterFilter {
  if ('all' in sel) return {};
  if ('flow' in sel) return { flow: sel.flow };
  return sel.filter;
}

/**
 * Replays or purges every dead letter a filter (or --all) names, in pages of
 * {@link MAX_PAGE}, one transaction each, so that a progress bar can show
 * real progress. The ids are listed first: exactly the dead letters there are
 * when the command starts are acted on, each once, even while replayed ones
 * die again (they would come back at the top of a fresh listing). Resolves
 * with how many were acted on.
 */
async function inPages(
  store: Store,
  sel: Exclude<DeadLetterSelector, { ids: string[] }>,
  label: string,
  progress: boolean,
  act: (ids: string[]) => Promise<number>,
): Promise<number> {
  const filter = filterOfSelector(sel);
  const ids: string[] = [];
  for (let before: string | undefined; ; ) {
    const page = await store.deadLetters.list({ ...filter, limit: MAX_PAGE, ...(before === undefined ? {} : { before }) });
    for (const dl of page) ids.push(dl.id);
    if (page.length < MAX_PAGE) break;
    before = page[page.length - 1]!.id;
  }
  const shown = startProgress({
    mode: chooseProgress({ enabled: progress, isTTY: process.stderr.isTTY === true, total: ids.length }),
    label,
    noun: 'dead letters',
    total: ids.length,
  });
  let done = 0;
  try {
    for (let i = 0; i < ids.length; i += MAX_PAGE) {
      done += await act(ids.slice(i, i + MAX_PAGE));
      shown.update(Math.min(i + MAX_PAGE, ids.length), done);
    }
  } catch (e) {
    shown.stop();
    // Each page committed stays so: say how far it got.
    process.stderr.write(`stopped after ${done} of ${ids.length} dead letters\n`);
    throw e;
  }
  shown.stop();
  return done;
}

/** A subcommand that acts on dead letters named by ID…, a filter (--flow F, --code C, --since T, --until T) or --all. */
function selectingCommand(
  parent: Command,
  name: string,
  description: string,
  act: (store: Store, sel: DeadLetterSelector, opts: { progress: boolean }) => Promise<void>,
): void {
  filterOptions(parent.command(name).description(description).argument('[ids...]').addOption(configOption()), 'every dead letter of this flow')
    .option('--all', 'every dead letter')
    .option('--no-progress', 'no progress on stderr for a filter or --all')
    .action(async (ids: string[], opts: FilterOptions & { config: string; all?: boolean; progress: boolean }, cmd: Command) => {
      const sel = selector(ids, opts, cmd);
      await withStore(opts.config, async (store, loaded) => {
        await checkFlow(store, loaded, opts.flow);
        await act(store, sel, opts);
      });
    });
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
