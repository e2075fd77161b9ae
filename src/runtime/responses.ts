/**
 * @module runtime/responses
 * Carries a flow's synchronous answer (the `respond` step) from the worker to the
 * HTTP request waiting for it, in the same process. The message is stored first,
 * as for any trigger, so a caller that times out has lost nothing: the flow goes on.
 */
import type { JunctionError } from '../core/errors.ts';

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

export class ResponseHub {
  readonly #waiters = new Map<string, Waiter>();
  readonly #early = new Map<string, { settled: Settled; timer: NodeJS.Timeout }>();

  /** Resolves with the answer for `id`, or `undefined` after `timeoutMs`. */
  wait(id: string, timeoutMs: number): Promise<Settled | undefined> {
    const early = this.#early.get(id);
    if (early) {
      clearTimeout(early.timer);
      this.#early.delete(id);
      return Promise.resolve(early.settled);
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
  }

  /** Clears every pending wait (they resolve as timed out) and kept answer. */
  close(): void {
    for (const [id, w] of this.#waiters) {
      clearTimeout(w.timer);
      w.resolve(undefined);
      this.#waiters.delete(id);
    }
    for (const e of this.#early.values()) clearTimeout(e.timer);
    this.#early.clear();
  }
}
