/**
 * @module runtime/responses
 * Carries a flow's synchronous answer (the `respond` step) from the worker to the
 * HTTP request waiting for it. The message is stored first, as for any trigger,
 * so a caller that times out has lost nothing: the flow goes on.
 *
 * With many nodes on one store (PostgreSQL), whichever node runs the flow may
 * not be the one holding the request: an answer that nobody waits for here is
 * published through the store's signals (`LISTEN/NOTIFY`), and every node's hub
 * hands it to its waiter, if it has one.
 */
import type { JunctionError } from '../core/errors.ts';
import { fromWire, toWire, type WireError } from '../core/wire-error.ts';
import type { StoreSignals } from '../store/store.ts';

export interface FlowResponse {
  status: number;
  headers: Record<string, string>;
  /** A JSON value, or text sent as it is under its content-type header. */
  body: unknown;
}

export type Settled = { kind: 'response'; response: FlowResponse } | { kind: 'failed'; error: JunctionError };

interface Waiter {
  resolve: (s: Settled | undefined) => void;
  timer: NodeJS.Timeout;
}

/** How long an answer that nobody waits for yet is kept: the worker can finish before the trigger starts waiting. */
const UNCLAIMED_TTL_MS = 60_000;
/**
 * Another node's answer that nobody here waits for is kept this long, at most
 * {@link REMOTE_KEPT} of them: every node hears every answer, and only the one
 * whose enqueue has just returned (it is about to wait) needs it.
 */
const REMOTE_TTL_MS = 10_000;
const REMOTE_KEPT = 1000;
/** The store signal topic answers travel under. */
export const RESPONSE_TOPIC = 'response';

type WireSettled = { kind: 'response'; response: FlowResponse } | { kind: 'failed'; error: WireError };

export interface ResponseHubOptions {
  /** Set on a store shared by many nodes: answers cross between them. */
  signals?: StoreSignals | undefined;
  /** Told when a published answer could not be sent or read (the caller then times out). */
  onError?: ((e: unknown) => void) | undefined;
}

export class ResponseHub {
  readonly #waiters = new Map<string, Waiter>();
  readonly #early = new Map<string, { settled: Settled; timer: NodeJS.Timeout }>();
  /** Answers other nodes published, read only when someone here waits for them. */
  readonly #remote = new Map<string, { read: () => Promise<string>; timer: NodeJS.Timeout }>();
  readonly #signals: StoreSignals | undefined;
  readonly #onError: (e: unknown) => void;
  readonly #unsubscribe: (() => void) | undefined;

  constructor(opts: ResponseHubOptions = {}) {
    this.#signals = opts.signals;
    this.#onError = opts.onError ?? (() => undefined);
    this.#unsubscribe = opts.signals?.subscribe(RESPONSE_TOPIC, (id, read) => this.#heard(id, read));
  }

  /** Resolves with the answer for `id`, or `undefined` after `timeoutMs`. */
  wait(id: string, timeoutMs: number): Promise<Settled | undefined> {
    const early = this.#early.get(id);
    if (early) {
      clearTimeout(early.timer);
      this.#early.delete(id);
      return Promise.resolve(early.settled);
    }
    const remote = this.#remote.get(id);
    if (remote) {
      clearTimeout(remote.timer);
      this.#remote.delete(id);
      return this.#decode(remote.read);
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(id);
        resolve(undefined);
      }, timeoutMs);
      this.#waiters.set(id, { resolve, timer });
    });
  }

  /** The first answer for a message wins; later ones (a retried flow) are ignored. */
  settle(id: string, settled: Settled): void {
    const waiter = this.#waiters.get(id);
    if (waiter) {
      clearTimeout(waiter.timer);
      this.#waiters.delete(id);
      waiter.resolve(settled);
      return;
    }
    if (this.#early.has(id)) return;
    const timer = setTimeout(() => this.#early.delete(id), UNCLAIMED_TTL_MS).unref();
    this.#early.set(id, { settled, timer });
    // The caller may be waiting on another node: tell them all (this one too, which has it already).
    if (this.#signals) {
      const wire: WireSettled = settled.kind === 'response' ? settled : { kind: 'failed', error: toWire(settled.error) };
      this.#signals.publish(RESPONSE_TOPIC, id, JSON.stringify(wire)).catch(this.#onError);
    }
  }

  /** An answer published by some node (this one included). */
  #heard(id: string, read: () => Promise<string>): void {
    const waiter = this.#waiters.get(id);
    if (waiter) {
      clearTimeout(waiter.timer);
      this.#waiters.delete(id);
      void this.#decode(read).then(waiter.resolve);
      return;
    }
    if (this.#early.has(id) || this.#remote.has(id)) return;
    if (this.#remote.size >= REMOTE_KEPT) {
      const [oldest, entry] = this.#remote.entries().next().value as [string, { timer: NodeJS.Timeout }];
      clearTimeout(entry.timer);
      this.#remote.delete(oldest);
    }
    const timer = setTimeout(() => this.#remote.delete(id), REMOTE_TTL_MS).unref();
    this.#remote.set(id, { read, timer });
  }

  /** The published answer, or undefined (the caller's timeout answer) when it cannot be read. */
  async #decode(read: () => Promise<string>): Promise<Settled | undefined> {
    try {
      const wire = JSON.parse(await read()) as WireSettled;
      return wire.kind === 'response' ? wire : { kind: 'failed', error: fromWire(wire.error) as JunctionError };
    } catch (e) {
      this.#onError(e);
      return undefined;
    }
  }

  /** Clears every pending wait (they resolve as timed out) and kept answer. */
  close(): void {
    this.#unsubscribe?.();
    for (const r of this.#remote.values()) clearTimeout(r.timer);
    this.#remote.clear();
    for (const [id, w] of this.#waiters) {
      clearTimeout(w.timer);
      w.resolve(undefined);
      this.#waiters.delete(id);
    }
    for (const e of this.#early.values()) clearTimeout(e.timer);
    this.#early.clear();
  }
}
