/**
 * @module test/helpers/sender
 * A webhook sender as the crash and restart tests need one: it posts one JSON
 * message per idempotency key to one or more `junction run` nodes, a few at a
 * time, records every answer, and sends again (same key) what was not answered
 * 202, the way a sender that honours Retry-After does.
 *
 * ```ts
 * const sender = new Sender([a.url, b.url], '/hooks/orders');
 * await sender.stream(keys, { concurrency: 16 });     // node i % 2 for the i-th key
 * await sender.resend({ until: () => sender.pending().length === 0 });
 * assert.equal(sender.accepted.size, keys.length);
 * ```
 */
import { Pool } from 'undici';

/** One answer (or the lack of one) to one post. */
export interface Answer {
  key: string;
  /** The node's index in the sender's URLs. */
  node: number;
  /** The HTTP status, or `error` when the connection failed (the node is gone). */
  status: number | 'error';
  /** The problem's `code`, for a refusal. */
  code?: string | undefined;
  retryAfter?: string | undefined;
  /** Date.now() when the post was sent. */
  sentAt: number;
  /** Date.now() when the answer came. */
  at: number;
}

export interface StreamOptions {
  /** Posts in flight at once. */
  concurrency: number;
  /** The node a key goes to; default round-robin by the key's position. */
  node?: (index: number) => number;
  /** Called after each answer; the stream stops early when it returns 'stop'. */
  onAnswer?: (a: Answer) => void | 'stop';
  /** A poster that got no 202 waits this long before its next post, as a sender told to come back would. */
  pauseAfterRefusalMs?: number;
}

export class Sender {
  readonly #pools: Pool[];
  readonly #path: string;
  /** Key → message id, for every key answered 202. */
  readonly accepted = new Map<string, string>();
  /** Every answer, in order of arrival. */
  readonly answers: Answer[] = [];
  /** Keys posted at least once. */
  readonly #posted = new Set<string>();

  constructor(urls: string[], path: string) {
    this.#pools = urls.map((url) => new Pool(url, { connections: 32 }));
    this.#path = path;
  }

  /** Posts `key` to node `node` once; a 202 marks it accepted. */
  async post(key: string, node: number): Promise<Answer> {
    this.#posted.add(key);
    const sentAt = Date.now();
    let answer: Answer;
    try {
      const res = await this.#pools[node]!.request({
        method: 'POST',
        path: this.#path,
        headers: { 'content-type': 'application/json', 'idempotency-key': key },
        body: JSON.stringify({ id: key, items: [{ price: 1, qty: 2 }] }),
        headersTimeout: 30_000,
      });
      const text = await res.body.text();
      const retryAfter = res.headers['retry-after'];
      answer = { key, node, status: res.statusCode, sentAt, at: Date.now(), ...(typeof retryAfter === 'string' ? { retryAfter } : {}) };
      if (res.statusCode === 202) this.accepted.set(key, (JSON.parse(text) as { id: string }).id);
      else answer.code = (JSON.parse(text) as { code?: string }).code;
    } catch {
      // The node died under the request, or refuses connections: the sender does not know what happened.
      answer = { key, node, status: 'error', sentAt, at: Date.now() };
    }
    this.answers.push(answer);
    return answer;
  }

  /** Posts each key once, `concurrency` at a time, in order; resolves when every key was posted or onAnswer said stop. */
  async stream(keys: readonly string[], opts: StreamOptions): Promise<void> {
    const nodeOf = opts.node ?? ((i: number) => i % this.#pools.length);
    let next = 0;
    let stopped = false;
    const poster = async (): Promise<void> => {
      while (!stopped && next < keys.length) {
        const i = next++;
        const answer = await this.post(keys[i]!, nodeOf(i));
        if (opts.onAnswer?.(answer) === 'stop') stopped = true;
        if (answer.status !== 202 && opts.pauseAfterRefusalMs) await new Promise((r) => setTimeout(r, opts.pauseAfterRefusalMs));
      }
    };
    await Promise.all(Array.from({ length: opts.concurrency }, poster));
  }

  /** Keys posted and never answered 202. */
  pending(): string[] {
    return [...this.#posted].filter((k) => !this.accepted.has(k));
  }

  /**
   * Sends every pending key again, to the nodes `nodes` (round-robin), until
   * none is pending; each round waits `pauseMs` first. Throws after `rounds` rounds.
   */
  async resend(nodes: readonly number[], opts: { concurrency: number; pauseMs: number; rounds: number }): Promise<void> {
    for (let round = 0; this.pending().length > 0; round++) {
      if (round >= opts.rounds) throw new Error(`${this.pending().length} keys still not accepted after ${opts.rounds} rounds; last answers: ${JSON.stringify(this.answers.slice(-3))}`);
      if (round > 0) await new Promise((r) => setTimeout(r, opts.pauseMs));
      await this.stream(this.pending(), { concurrency: opts.concurrency, node: (i) => nodes[i % nodes.length]! });
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.#pools.map((p) => p.destroy()));
  }
}
