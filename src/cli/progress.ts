/**
 * @module cli/progress
 * Progress of a long CLI command (`send`, `dlq replay`) on stderr, so stdout
 * keeps only the result. A bar (cli-progress: percentage, rate, ETA) when
 * stderr is a terminal and the total is known; otherwise a plain line now and
 * then (a log, a pipe, or stdin of unknown size), or nothing with `--no-progress`.
 */
import { MultiBar, type SingleBar } from 'cli-progress';

export type ProgressMode = 'bar' | 'lines' | 'none';

/**
 * The kind of progress to show. A bar redraws itself in place, which only a
 * terminal does, and needs a total; periodic lines suit everything else.
 */
export function chooseProgress(o: { enabled: boolean; isTTY: boolean; total: number | undefined }): ProgressMode {
  if (!o.enabled) return 'none';
  return o.isTTY && o.total !== undefined && o.total > 0 ? 'bar' : 'lines';
}

export interface ProgressOptions {
  mode: ProgressMode;
  /** What is shown first: `send orders`, `replay`. */
  label: string;
  /** What `count` counts: `messages`, `dead letters`. */
  noun: string;
  /** The end of `value`: bytes of a file, dead letters to replay; undefined when unknown. */
  total: number | undefined;
  stream?: NodeJS.WriteStream;
  /** How often a plain line is written; default 1 s on a terminal, 10 s elsewhere. */
  everyMs?: number;
  now?: () => number;
}

export interface Progress {
  /** `value` counts towards `total` (bytes read, say); `count` is what was done (messages stored). */
  update(value: number, count: number): void;
  /** Writes a line above the bar (a refusal), or as is without one. */
  log(line: string): void;
  /** Removes the bar; no line is written afterwards. */
  stop(): void;
}

export function startProgress(o: ProgressOptions): Progress {
  const stream = o.stream ?? process.stderr;
  const now = o.now ?? Date.now;
  const started = now();
  let value = 0;
  let count = 0;
  const rate = (): number => {
    const s = (now() - started) / 1000;
    return s > 0 ? Math.round(count / s) : 0;
  };

  if (o.mode === 'bar' && o.total !== undefined) {
    const bars = new MultiBar({
      stream,
      hideCursor: true,
      clearOnComplete: true,
      barsize: 30,
      etaBuffer: 50,
      format: `${o.label} [{bar}] {percentage}% | {count} ${o.noun} | {rate}/s | ETA {eta_formatted}`,
    });
    const bar: SingleBar = bars.create(o.total, 0, { count: 0, rate: 0 });
    return {
      update(v, c) {
        value = v;
        count = c;
        bar.update(Math.min(v, o.total!), { count: c, rate: rate() });
      },
      log: (line) => bars.log(`${line}\n`),
      stop: () => bars.stop(),
    };
  }

  let timer: NodeJS.Timeout | undefined;
  if (o.mode === 'lines') {
    const write = (): void => {
      const share = o.total === undefined || o.total === 0 ? '' : `, ${Math.floor((100 * Math.min(value, o.total)) / o.total)}%`;
      stream.write(`${o.label}: ${count} ${o.noun} (${rate()}/s${share})\n`);
    };
    timer = setInterval(write, o.everyMs ?? (stream.isTTY ? 1000 : 10_000));
    // Progress never keeps the process alive.
    timer.unref();
  }
  return {
    update(v, c) {
      value = v;
      count = c;
    },
    log: (line) => stream.write(`${line}\n`),
    stop: () => clearInterval(timer),
  };
}
