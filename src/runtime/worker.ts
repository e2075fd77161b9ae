/**
 * @module runtime/worker
 * The claim loop: take due messages with a lease, run their flow, and write one
 * outcome per attempt (ack, retry at a time, or dead letter). Leases are renewed
 * while a message runs; on stop, claiming ends, in-flight work may finish for
 * `drainMs`, and what is still running is aborted and handed back to the queue
 * without spending an attempt.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Clock } from '../core/clock.ts';
import { coerceError, errors, isJunctionError } from '../core/errors.ts';
import type { AttemptRecord } from '../core/message.ts';
import { traceIdOf, validTraceparent, type TraceScope } from '../core/trace-context.ts';
import { retryDefaults } from '../connectors/options.ts';
import { listening, publish } from '../observability/channels.ts';
import type { Logger } from '../observability/logger.ts';
import type { Claimed, Store } from '../store/store.ts';
import { type CompiledFlow, StepFailure } from './flow.ts';
import { decideOutcome } from './outcome.ts';
import type { ResponseHub } from './responses.ts';
import { noScrub, type Scrub } from '../observability/redact.ts';
import { scrubOutcome } from '../observability/scrub-outcome.ts';

export interface WorkerOptions {
  concurrency: number;
  /** Messages taken at ingest beyond `concurrency`, waiting here for a slot (see {@link Worker.reserve}). */
  prefetch: number;
  leaseMs: number;
  pollMs: number;
  drainMs: number;
}

export interface WorkerDeps {
  store: Store;
  flows: ReadonlyMap<string, CompiledFlow>;
  options: WorkerOptions;
  logger: Logger;
  clock: Clock;
  /** Where `respond` steps answer, and dead flows tell a waiting caller why. */
  responses?: ResponseHub;
  /** Cuts the config's secrets out of an outcome before it leaves: to the store, or to a caller waiting on respond. */
  scrub?: Scrub;
}

/** What the admin API shows of a worker: its slots, and how its messages came to it since it started. */
export interface WorkerView {
  id: string;
  running: boolean;
  concurrency: number;
  inFlight: number;
  /** Messages leased to it at ingest and waiting here for a free slot. */
  waiting: number;
  /** Messages leased to it as they were stored (the hand-off at ingest). */
  handedOff: number;
  /** Messages it claimed from the queue (due later, retried, replayed, or no free slot at ingest). */
  claimed: number;
}

export class Worker {
  readonly id = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  readonly #deps: WorkerDeps;
  /** Messages being processed, by id. */
  readonly #inFlight = new Map<string, Run>();
  /**
   * Messages leased to this worker at ingest while every slot was busy, oldest
   * first; each starts as a slot frees. Their leases are renewed like running
   * ones, so after a crash they are claimable again as any lease is.
   */
  readonly #waiting: Claimed[] = [];
  /** Aborted when the drain time is over: steps stop and messages go back to the queue. */
  readonly #abort = new AbortController();
  #wake: (() => void) | undefined;
  /**
   * A notify() that came while the loop was awake (its claim in flight): the claim's snapshot may predate
   * what the wake was for (another node's commit, NOTIFY'd), so the next sleep ends at once and claims again.
   * Without it that message would wait a whole pollMs (the flake in postgres-nodes.test.ts, batch on a stop).
   */
  #wokenAwake = false;
  #loop: Promise<void> | undefined;
  #renewTimer: NodeJS.Timeout | undefined;
  #stopping = false;
  /** Slots promised to messages being stored with a lease for this worker (enqueue's claim), not yet adopted. */
  #reserved = 0;
  /** Called when the last reservation is adopted or given back: stop() waits for it. */
  #reservationsDone: (() => void) | undefined;
  readonly #counts = { handedOff: 0, claimed: 0 };

  constructor(deps: WorkerDeps) {
    this.#deps = deps;
  }

  /** True between start() and stop(): readiness depends on it. */
  get running(): boolean {
    return this.#loop !== undefined && !this.#stopping;
  }

  get inFlight(): number {
    return this.#inFlight.size;
  }

  view(): WorkerView {
    const { concurrency } = this.#deps.options;
    return { id: this.id, running: this.running, concurrency, inFlight: this.#inFlight.size, waiting: this.#waiting.length, ...this.#counts };
  }

  start(): void {
    if (this.#loop) return;
    const renewEveryMs = Math.max(50, Math.floor(this.#deps.options.leaseMs / 3));
    this.#renewTimer = setInterval(() => void this.#renewLeases(), renewEveryMs).unref();
    this.#loop = this.#run();
  }

  /**
   * Says that messages may have become due (an ingest committed, another node's NOTIFY): wakes an idle
   * loop at once, or, while its claim is in flight, makes it claim again as soon as that one returns.
   */
  notify(): void {
    if (this.#wake) this.#wake();
    else this.#wokenAwake = true;
  }

  /**
   * Takes up to `n` places for messages that are being stored leased to this
   * worker (enqueue's `claim`): the hand-off that spares a claim per message.
   * There are `concurrency` slots plus `prefetch` places to wait in; while ingest
   * runs ahead of delivery, the waiting places keep the worker fed from ingest
   * rather than from the queue. Returns how many it took (0 unless running);
   * every one is given back through {@link adopt}, whether the enqueue succeeded or not.
   */
  reserve(n: number): number {
    if (!this.running) return 0;
    const { concurrency, prefetch } = this.#deps.options;
    const free = concurrency + prefetch - this.#inFlight.size - this.#waiting.length - this.#reserved;
    const taken = Math.max(0, Math.min(n, free));
    this.#reserved += taken;
    return taken;
  }

  /** Runs the messages leased to this worker at enqueue, and gives back the `reserved` slots they were promised. */
  adopt(claimed: readonly Claimed[], reserved: number): void {
    this.#reserved -= reserved;
    this.#counts.handedOff += claimed.length;
    for (const msg of claimed) {
      if (this.#inFlight.size < this.#deps.options.concurrency) this.#start(msg);
      else this.#waiting.push(msg);
    }
    if (this.#reserved === 0) this.#reservationsDone?.();
  }

  /** Stops claiming, lets in-flight work finish for drainMs, then hands the rest back. */
  async stop(): Promise<void> {
    if (!this.#loop || this.#stopping) return this.#loop;
    this.#stopping = true;
    this.notify();
    await this.#loop;
    // An enqueue that reserved slots before the stop is adopted into the drain, not left behind.
    if (this.#reserved > 0) await new Promise<void>((resolve) => (this.#reservationsDone = resolve));
    const all = this.#allDone();
    const drained = await Promise.race([all.then(() => true), delay(this.#deps.options.drainMs).then(() => false)]);
    if (!drained) {
      this.#deps.logger.warn({ inFlight: this.#inFlight.size, waiting: this.#waiting.length }, 'drain time over; returning in-flight messages to the queue');
      this.#abort.abort(errors.SHUTDOWN.create());
      // Those still waiting start now, aborted: each is handed back as a shutdown, without spending an attempt.
      for (const msg of this.#waiting.splice(0)) this.#start(msg);
      await this.#allDone();
    }
    clearInterval(this.#renewTimer);
  }

  async #run(): Promise<void> {
    const { store, options, logger } = this.#deps;
    let failures = 0;
    // Claiming for every slot that frees costs one claim per message; waiting for a
    // quarter of the slots costs little latency and claims in batches.
    const claimBatch = Math.max(1, Math.floor(options.concurrency / 4));
    while (!this.#stopping) {
      // Reservations and waiting messages are work already on its way here: claim only beyond them.
      const free = options.concurrency - this.#inFlight.size - this.#waiting.length - this.#reserved;
      if (free <= 0 || (free < claimBatch && this.#inFlight.size > 0)) {
        await this.#sleep(options.pollMs);
        continue;
      }
      let claimed: Claimed[];
      // Wakes until now are answered by this claim; one that comes while it runs makes the next sleep end at once.
      this.#wokenAwake = false;
      try {
        claimed = await store.claim({ worker: this.id, limit: free, leaseMs: options.leaseMs });
        failures = 0;
      } catch (e) {
        failures++;
        logger.error({ err: coerceError(e), failures }, 'claim failed; backing off');
        await this.#sleep(Math.min(5000, options.pollMs * 2 ** failures));
        continue;
      }
      this.#counts.claimed += claimed.length;
      for (const msg of claimed) {
        const running = this.#inFlight.get(msg.id);
        if (running?.settling) {
          // Its outcome is being written: a retry due at once was claimed before the
          // settle's answer came back. That is a new attempt; it starts when this one ends.
          running.next = msg;
        } else if (running) {
          // Our own lease ran out while the message was still running (a stalled event
          // loop), and the claim handed it back to us: keep the one run, under the new lease.
          logger.warn({ messageId: msg.id }, 'lease expired while processing; renewed by the claim');
          running.lease = msg.lease;
        } else this.#start(msg);
      }
      // A full batch suggests more is due: claim again at once.
      if (claimed.length === 0 || claimed.length < free) await this.#sleep(options.pollMs);
    }
  }

  /** Processes a message this worker holds the lease of; its slot frees when the outcome is written. */
  #start(msg: Claimed): void {
    publish('message:claimed', { worker: this.id, flow: msg.flow, id: msg.id, attempt: msg.attempt });
    const run: Run = { msg, lease: msg.lease, settling: false, next: undefined, done: Promise.resolve() };
    run.done = this.#process(msg, run).finally(() => {
      this.#inFlight.delete(msg.id);
      if (run.next) this.#start(run.next);
      else if (this.#waiting.length > 0) this.#start(this.#waiting.shift()!);
      // A freed slot wakes a sleeping loop only: a claim in flight was sized before the slot freed, and
      // unless it comes back full (then the loop claims again anyway) nothing more was due as it ran.
      else this.#wake?.();
    });
    this.#inFlight.set(msg.id, run);
  }

  /** @param run read for the lease held when the outcome is written, and marked as settling then */
  async #process(msg: Claimed, run: Run): Promise<void> {
    const { flows, clock, logger, store } = this.#deps;
    const startedAt = clock.now();
    const t0 = performance.now();
    let error: unknown = null;
    const flow = flows.get(msg.flow);
    // An unknown flow is a permanent failure, so the defaults are never consulted for it.
    let retry = flow?.retry ?? retryDefaults;
    // A child logger costs more than the message's own work (pino prepares redaction
    // per child): steps get one only when they log, the worker passes its fields per line.
    // The trace id ties the lines of every attempt to the message's trace, retries an hour apart included.
    const traceId = traceIdOf(msg.traceparent ?? undefined);
    const fields = traceId === undefined ? { messageId: msg.id, flow: msg.flow, attempt: msg.attempt } : { messageId: msg.id, flow: msg.flow, attempt: msg.attempt, traceId };
    /** Set only while someone observes attempts (tracing): steps and calls of this attempt carry it in their events. */
    let scope: TraceScope | undefined;
    if (listening('attempt:start')) {
      scope = {};
      // A tracestate belongs to the traceparent it came with: without a valid one from the sender, it is dropped (W3C Trace Context).
      const tracestate = validTraceparent(msg.headers.traceparent) === undefined ? undefined : msg.headers.tracestate;
      publish('attempt:start', { worker: this.id, flow: msg.flow, id: msg.id, attempt: msg.attempt, traceparent: msg.traceparent ?? undefined, tracestate, scope });
    }
    /** The connector of the step that failed, for the outcome's log line. */
    let connector: string | undefined;
    let child: Logger | undefined;
    const stepLogger = (): Logger => (child ??= logger.child(fields));
    /** The Idempotency-Key the attempt last sent, for its history: a template may render another than `msg.idempotencyKey`. */
    let sentKey: string | undefined;
    /** The step that dropped the message (a filter), for the settled event. */
    let dropped: string | undefined;
    if (!flow) {
      error = errors.FLOW_UNKNOWN.create([msg.flow]);
    } else {
      try {
        const result = await flow.run(msg, {
          signal: this.#abort.signal,
          get logger() {
            return stepLogger();
          },
          clock,
          fanOut: async (parts) => {
            // The parts' keys are derived from the parent's: a parent run again after a crash makes the same
            // parts, and if a step before the split answered otherwise this time, the parts stored first stand.
            await store.enqueue(parts, { onKeyReuse: 'keep-first' });
            this.notify();
          },
          sendsIdempotencyKey: (key) => {
            sentKey = key;
          },
          ...(scope === undefined ? {} : { scope }),
          ...(this.#deps.responses ? { respond: (response) => this.#deps.responses?.settle(msg.id, { kind: 'response', response }) } : {}),
        });
        if (result.kind === 'dropped') {
          dropped = result.step;
          logger.debug({ ...fields, step: result.step }, 'dropped');
        }
      } catch (e) {
        if (e instanceof StepFailure) {
          // A foreign error names the step it came from.
          error = coerceError(e.error, errors.STEP_FAILED, [`${msg.flow}.${e.step}`]);
          retry = e.retry;
          connector = e.connector;
        } else error = e;
      }
    }
    // Whatever a step threw while we were aborting, the message was interrupted, not failed.
    if (error !== null && this.#abort.signal.aborted && !(isJunctionError(error) && error.family === 'permanent')) {
      error = errors.SHUTDOWN.create([], { cause: error });
    }
    const scrub = this.#deps.scrub ?? noScrub;
    const outcome = scrubOutcome(decideOutcome({ error, attempt: msg.attempt, retry, now: clock.now() }), scrub);
    if (scope !== undefined) {
      publish('attempt:end', {
        scope,
        outcome: outcome.kind,
        ...(outcome.kind === 'ack' ? {} : { code: outcome.error.code }),
        ...(outcome.kind === 'retry' ? { paused: !outcome.spendAttempt } : {}),
      });
    }
    const failed = connector === undefined ? fields : { ...fields, connector };
    const record: AttemptRecord = {
      attempt: msg.attempt,
      startedAt,
      durationMs: Math.round(performance.now() - t0),
      outcome: outcome.kind,
      ...(outcome.kind === 'ack' ? {} : { errorCode: outcome.error.code, error: outcome.error.message, response: outcome.lastResponse }),
      // A key template may draw on a secret (`$env`); the history keeps what the scrub leaves.
      ...(sentKey === undefined ? {} : { idempotencyKey: scrub(sentKey) }),
    };
    try {
      run.settling = true;
      const held = await store.settle({ id: msg.id, lease: run.lease }, outcome, record);
      if (!held) logger.warn(fields, 'lease lost before settling; another worker owns the message now');
      else {
        if (outcome.kind === 'dead' && flow?.respondTimeoutMs !== undefined) {
          this.#deps.responses?.settle(msg.id, { kind: 'failed', error: outcome.error });
        }
        if (listening('message:settled')) {
          publish('message:settled', {
            worker: this.id,
            flow: msg.flow,
            id: msg.id,
            attempt: msg.attempt,
            outcome: outcome.kind,
            ...(outcome.kind === 'retry' ? { at: outcome.at, paused: !outcome.spendAttempt } : {}),
            ...(outcome.kind === 'ack' ? {} : { code: outcome.error.code }),
            ...(dropped === undefined ? {} : { dropped }),
            durationMs: performance.now() - t0,
          });
        }
      }
    } catch (e) {
      // The lease will expire and the message will be claimed again: nothing is lost.
      logger.error({ ...fields, err: coerceError(e) }, 'could not record the outcome');
      return;
    }
    if (outcome.kind === 'ack') logger.debug(fields, 'delivered');
    else if (outcome.kind === 'retry') logger.info({ ...failed, code: outcome.error.code, at: new Date(outcome.at).toISOString() }, outcome.error.message);
    else logger.warn({ ...failed, code: outcome.error.code }, `dead letter: ${outcome.error.message}`);
  }

  /** Resolves when nothing is in flight or waiting, counting the attempts that start as the one before them ends. */
  async #allDone(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.all([...this.#inFlight.values()].map((r) => r.done));
  }

  async #renewLeases(): Promise<void> {
    if (this.#inFlight.size === 0 && this.#waiting.length === 0) return;
    const refs = [...this.#inFlight.values()].map(({ msg, lease }) => ({ id: msg.id, lease }));
    for (const msg of this.#waiting) refs.push({ id: msg.id, lease: msg.lease });
    try {
      await this.#deps.store.extendLease(refs, this.#deps.options.leaseMs);
    } catch (e) {
      this.#deps.logger.error({ err: coerceError(e) }, 'could not renew leases');
    }
  }

  /** Waits for ms, or less when notify() is called; not at all when it was called while the loop was awake. */
  #sleep(ms: number): Promise<void> {
    if (this.#wokenAwake) {
      this.#wokenAwake = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      this.#wake = done;
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
    }).finally(() => {
      this.#wake = undefined;
    });
  }
}

/** One message being processed by this worker. */
interface Run {
  readonly msg: Claimed;
  /** The lease token held now: a claim that finds the run still going replaces it. */
  lease: string;
  /** True once its outcome is being written: a claim of it after that is a new attempt. */
  settling: boolean;
  /** That new attempt, started when this run ends. */
  next: Claimed | undefined;
  done: Promise<void>;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
