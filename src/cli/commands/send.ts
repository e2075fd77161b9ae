/**
 * @module cli/commands/send
 * `junction send FLOW --file data.json|data.jsonl|data.csv|-`: injects
 * messages into a flow. It writes to the store named in the configuration,
 * as `junction dlq` does, whether or not `junction run` is running: running
 * workers pick the messages up at their next poll. Each message goes through
 * the flow's ingress checks first (`validate: { at: ingress }`), as over HTTP;
 * a record they refuse, or that cannot be parsed, is reported with its line
 * and not stored, and the command exits 1. With `--key`, each message's dedupe
 * key comes from its body, so sending the same file again adds nothing twice.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { Option, type Command } from 'commander';
import { loadStoreConfig } from '../../config/load-store.ts';
import { errors } from '../../core/errors.ts';
import { compileExpression, type Expression } from '../../core/expression.ts';
import { fsReason } from '../../core/fs-reason.ts';
import { openStore } from '../../store/open.ts';
import { sendRecords, type SendTally } from '../send/batches.ts';
import { ingressCheck } from '../send/ingress.ts';
import { formatOfFile, readRecords, SEND_FORMATS, type SendFormat } from '../send/records.ts';
import { chooseProgress, startProgress } from '../progress.ts';
import { configOption, integerIn } from './options.ts';

interface SendOptions {
  config: string;
  file: string;
  format?: SendFormat;
  key?: string;
  batch: number;
  progress: boolean;
  json?: boolean;
}

/** Refused lines named in the summary; the rest are counted (each was reported on stderr as it was found). */
const SUMMARY_LINES = 20;

export function registerSend(program: Command): void {
  program
    .command('send')
    .description('inject messages into a flow from a file (.json, .jsonl, .csv) or stdin')
    .argument('<flow>', 'the flow that receives the messages')
    .requiredOption('-f, --file <file>', 'data.json (one body or an array), data.jsonl (one per line), data.csv (one per row), or - for stdin')
    .addOption(configOption())
    .addOption(new Option('--format <format>', 'the file\'s format, when its extension does not say; stdin: default jsonl, or json when it starts with [').choices(SEND_FORMATS))
    .option('--key <expr>', 'JSONata over each body: its dedupe key, so that sending again adds nothing twice')
    .option('--batch <n>', 'messages stored per transaction, from 1 to 10000', integerIn(1, 10_000), 500)
    .option('--no-progress', 'no progress on stderr')
    .option('--json', 'print the summary as one JSON object')
    .action(async (flow: string, opts: SendOptions, cmd: Command) => {
      const format = opts.format ?? (opts.file === '-' ? 'detect' : formatOfFile(opts.file));
      if (format === undefined) cmd.error(`error: cannot tell the format of ${opts.file} from its extension; use --format ${SEND_FORMATS.join('|')}`);
      let key: Expression | undefined;
      try {
        key = opts.key === undefined ? undefined : compileExpression(opts.key);
      } catch (e) {
        cmd.error(`error: --key: ${(e as Error).message}`);
      }

      const loaded = await loadStoreConfig(opts.config, { stepsOf: flow });
      const flowConfig = Object.hasOwn(loaded.config.flows, flow) ? loaded.config.flows[flow] : undefined;
      if (!flowConfig) throw errors.SEND_FLOW_UNKNOWN.create([JSON.stringify(flow), Object.keys(loaded.config.flows).join(', ') || '(none)']);
      const check = await ingressCheck(flow, flowConfig.steps ?? [], loaded.baseDir);
      const { source, size } = await openInput(opts.file);

      const progress = startProgress({
        mode: chooseProgress({ enabled: opts.progress, isTTY: process.stderr.isTTY === true, total: size }),
        label: `send ${flow}`,
        noun: 'messages',
        total: size,
      });
      const refusedLines: number[] = [];
      const store = openStore(loaded.config.store.url, { baseDir: loaded.baseDir });
      let tally: SendTally;
      let stored: SendTally | undefined;
      try {
        await store.migrate();
        tally = await sendRecords({
          store,
          flow,
          records: readRecords(source, format),
          file: opts.file,
          batchSize: opts.batch,
          key,
          check,
          onRefused: (r) => {
            if (refusedLines.length < SUMMARY_LINES) refusedLines.push(r.line);
            progress.log(`line ${r.line}: ${r.reason}`);
          },
          onProgress: (t) => {
            stored = t;
            progress.update(bytesRead(source), t.sent + t.duplicates);
          },
        });
      } catch (e) {
        progress.stop();
        // What is committed stays: say how much, and how to send the rest without doubling it.
        if (stored) process.stderr.write(`stopped: ${stored.sent} messages were stored before this; ${key ? 'send again with the same --key to add only the rest' : 'sending again without --key stores them twice'}\n`);
        throw e;
      } finally {
        progress.stop();
        source.destroy();
        await store.close();
      }
      printSummary(flow, tally, refusedLines.sort((a, b) => a - b), opts.json === true);
      if (tally.refused > 0) process.exitCode = 1;
    });
}

/** The file as a stream and its size in bytes (undefined for stdin, whose size is not known). */
async function openInput(file: string): Promise<{ source: Readable; size: number | undefined }> {
  if (file === '-') return { source: process.stdin, size: undefined };
  try {
    const s = await stat(file);
    if (!s.isFile()) throw Object.assign(new Error('not a file'), { code: 'EISDIR' });
    return { source: createReadStream(file), size: s.size };
  } catch (e) {
    throw errors.SEND_INPUT_UNREADABLE.create([file, fsReason(e)], { cause: e });
  }
}

function bytesRead(source: Readable): number {
  return (source as Readable & { bytesRead?: number }).bytesRead ?? 0;
}

function printSummary(flow: string, t: SendTally, lines: number[], json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify({ flow, ...t, refusedLines: lines })}\n`);
    return;
  }
  const more = t.refused > lines.length ? `, … (${t.refused - lines.length} more)` : '';
  const refused = t.refused === 0 ? '' : `; ${t.refused} refused (line${t.refused === 1 ? '' : 's'} ${lines.join(', ')}${more})`;
  const dup = t.duplicates === 0 ? '' : `; ${t.duplicates} duplicate${t.duplicates === 1 ? '' : 's'} (already stored, not sent again)`;
  process.stdout.write(`sent ${t.sent} new message${t.sent === 1 ? '' : 's'} to ${flow}${dup}${refused}\n`);
}
