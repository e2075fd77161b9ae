/**
 * @module store/sqlite/threaded
 * The SQLite store run in a worker thread. The caller's thread keeps HTTP and
 * deliveries; statements, group commits and their fsyncs run beside them on the
 * worker (bench/relay: about half of the main thread's time was inside
 * node:sqlite before). The guarantees are the in-thread store's, unchanged:
 * every call resolves only after the worker's commit, and the worker's
 * connection is the only one this process has to the file.
 *
 * `exclusive` holds its lock from this thread: `fn` and the renewal timer run
 * here, and only the lock rows' operations cross.
 */
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { systemClock, type Clock } from '../../core/clock.ts';
import { errors } from '../../core/errors.ts';
import type { Store } from '../store.ts';
import { createExclusive, DEFAULT_LOCK_LEASE_MS, type LockRows } from './exclusive.ts';
import type { StoreReply, StoreRequest, ThreadOptions } from './thread.ts';
import { fromWire, outcomeToWire } from '../../core/wire-error.ts';
import { updateUnderExclusive } from '../token-update.ts';
import type { KeyValue, TokenRecord } from '../store.ts';

export interface ThreadedStoreOptions extends ThreadOptions {
  /** Read on this thread for every call and sent with it. */
  clock?: Clock | undefined;
}


// The same extension as this module: .ts when run from the sources, .js when built.
const THREAD = new URL(`./thread${extname(fileURLToPath(import.meta.url))}`, import.meta.url);

export function createThreadedSqliteStore(opts: ThreadedStoreOptions): Store {
  const { clock = systemClock, ...threadOptions } = opts;
  const worker = new Worker(THREAD, { workerData: threadOptions });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  let nextId = 0;
  let failure: Error | undefined;
  let closed = false;
  // Only calls in flight keep the process alive, as an open database file does not.
  worker.unref();

  worker.on('message', (replies: StoreReply[]) => {
    for (const reply of replies) {
      const call = pending.get(reply.id);
      if (call === undefined) continue;
      pending.delete(reply.id);
      if (reply.ok) call.resolve(reply.value);
      else call.reject(fromWire(reply.error));
    }
    if (pending.size === 0) worker.unref();
  });
  const fail = (cause: unknown) => {
    failure = errors.STORE_UNAVAILABLE.create(['the store thread stopped'], { cause });
    for (const call of pending.values()) call.reject(failure);
    pending.clear();
  };
  worker.on('error', fail);
  worker.on('exit', (code) => {
    if (!closed) fail(new Error(`exit code ${code}`));
  });

  /** Calls made in one turn of the event loop go to the thread as one message. */
  let outbox: StoreRequest[] = [];
  const flush = (): void => {
    const batch = outbox;
    outbox = [];
    try {
      worker.postMessage(batch);
    } catch {
      // One of them cannot be cloned (a function in a body): send each alone, so only that one fails.
      for (const req of batch) {
        try {
          worker.postMessage([req]);
        } catch (e) {
          const call = pending.get(req.id);
          pending.delete(req.id);
          if (pending.size === 0) worker.unref();
          // The caller's mistake, as a cycle in a body is.
          call?.reject(errors.INPUT_INVALID.create([`${req.member}: ${(e as Error).message}`], { cause: e }));
        }
      }
    }
  };

  function call<T>(member: string, ...args: unknown[]): Promise<T> {
    if (failure) return Promise.reject(failure);
    if (closed) return Promise.reject(errors.STORE_UNAVAILABLE.create(['the store is closed']));
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      if (pending.size === 1) worker.ref();
      if (outbox.length === 0) setImmediate(flush);
      outbox.push({ id, member, args, now: clock.now() });
    });
  }

  const locks: LockRows = {
    take: (name, holder) => call('locks.take', name, holder),
    renew: (name, holder) => call('locks.renew', name, holder),
    release: (name, holder) => call('locks.release', name, holder),
  };
  let closing: Promise<void> | undefined;
  const exclusive = createExclusive(locks, opts.lockLeaseMs ?? DEFAULT_LOCK_LEASE_MS);
  const tokens: KeyValue<TokenRecord> = {
    get: (key) => call('tokens.get', key),
    set: (key, value) => call('tokens.set', key, value),
    delete: (key) => call('tokens.delete', key),
  };

  return {
    migrate: () => call('migrate'),
    close() {
      closing ??= (async () => {
        try {
          if (!failure) await call('close');
        } finally {
          closed = true;
          await worker.terminate();
          // A call made while the close was under way has no thread left to answer it: it fails rather
          // than waiting forever (with the thread gone, nothing would keep the process up for it either).
          const late = errors.STORE_UNAVAILABLE.create(['the store was closed before it answered']);
          for (const pendingCall of pending.values()) pendingCall.reject(late);
          pending.clear();
        }
      })();
      return closing;
    },
    ping: () => call('ping'),
    enqueue: (batch, o) => call('enqueue', batch, o),
    claim: (q) => call('claim', q),
    settle: (ref, outcome, attempt) => call('settle', ref, outcomeToWire(outcome), attempt),
    extendLease: (refs, ms) => call('extendLease', refs, ms),
    getMessage: (id) => call('getMessage', id),
    stats: (flow) => call('stats', flow),
    nextRunAt: () => call('nextRunAt'),
    oldestDue: () => call('oldestDue'),
    sweep: (q) => call('sweep', q),
    deadLetters: {
      list: (q) => call('deadLetters.list', q),
      get: (id) => call('deadLetters.get', id),
      count: (flow) => call('deadLetters.count', flow),
      replay: (sel) => call('deadLetters.replay', sel),
      purge: (sel) => call('deadLetters.purge', sel),
    },
    // Renewal's lock and the renewal itself stay on this thread; only the rows cross.
    tokens: { ...tokens, update: updateUnderExclusive(tokens, exclusive) },
    checkpoints: {
      get: (key) => call('checkpoints.get', key),
      set: (key, value) => call('checkpoints.set', key, value),
      delete: (key) => call('checkpoints.delete', key),
    },
    exclusive,
  };
}
