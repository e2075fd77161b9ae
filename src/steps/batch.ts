/**
 * @module steps/batch
 * Gathers messages until `size` have arrived or `maxWaitMs` has passed since the
 * first, then the rest of the flow runs once on a combined message whose body is
 * the array of the members' bodies: one outbound call carries them all. The
 * batch is one attempt for every member: its failure is each member's failure,
 * recorded in each member's history and retried or dead-lettered by each.
 *
 * Members are held by this process while they wait, so `size` above
 * `worker.concurrency` can never fill: the batch then leaves at `maxWaitMs`.
 *
 * **Per node.** With many nodes on one PostgreSQL store, each node batches the
 * members its own worker claimed; batches never span nodes (that would need a
 * home-made protocol, and a batch waiting on two nodes could be held up by
 * either). Nothing is lost for it: a waiting member is a stored message with a
 * lease. A node that stops sends its waiting members back to the queue (no
 * attempt spent), and one that dies leaves leases that expire; either way
 * another node claims and batches them (test/e2e/postgres-nodes.test.ts).
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { errors } from '../core/errors.ts';
import type { Json, Message } from '../core/message.ts';
import { BATCH_JOINED, BATCH_LEAD, type BatchJoined, type BatchLead, defineStep } from './step.ts';

export const batchOptions = z
  .strictObject({
    size: z.int().min(2).max(10_000).describe('Members per batch; keep it well below worker.concurrency (members hold a worker slot while they wait), or batches leave by time.'),
    maxWaitMs: z.int().min(1).default(1000).describe('A batch leaves this long after its first member arrived, full or not.'),
  })
  .describe('Send many messages in one call: the rest of the flow runs once on the array of their bodies. Per node: with many nodes on PostgreSQL each node batches the messages it claimed.');

interface Member {
  msg: Message;
  resolve(role: BatchLead | BatchJoined): void;
  reject(error: unknown): void;
}

export const batchStep = defineStep({
  name: 'batch',
  summary: 'Gather messages and run the rest of the flow once for all of them.',
  options: batchOptions,
  create(options) {
    let open: Member[] = [];
    let timer: NodeJS.Timeout | undefined;

    function close(): void {
      clearTimeout(timer);
      timer = undefined;
      const members = open;
      open = [];
      if (members.length === 0) return;
      let settle!: (error?: unknown) => void;
      const done = new Promise<void>((resolve, reject) => {
        settle = (error) => (error === undefined ? resolve() : reject(error));
      });
      // Followers learn the outcome through `done`; an unobserved rejection must not crash the process.
      done.catch(() => {});
      const [lead, ...rest] = members;
      lead!.resolve({ [BATCH_LEAD]: { message: combine(members.map((m) => m.msg)), settle } });
      for (const m of rest) m.resolve({ [BATCH_JOINED]: done });
    }

    return function batch(msg, ctx) {
      return new Promise((resolve, reject) => {
        const member: Member = { msg, resolve, reject };
        open.push(member);
        ctx.signal.addEventListener(
          'abort',
          () => {
            // Shutting down: a member still waiting leaves the batch and goes back to the queue.
            if (!open.includes(member)) return;
            open = open.filter((m) => m !== member);
            // The last one out stops the clock: a timer of maxWaitMs would keep a stopped engine's process alive.
            if (open.length === 0) {
              clearTimeout(timer);
              timer = undefined;
            }
            reject(errors.SHUTDOWN.create());
          },
          { once: true },
        );
        if (open.length >= options.size) close();
        else timer ??= setTimeout(close, options.maxWaitMs);
      });
    };
  },
});

/** The combined message: bodies in arrival order, and a key that names exactly these members. */
function combine(members: Message[]): Message {
  const first = members[0]!;
  const keys = members.map((m) => m.idempotencyKey).sort();
  const key = `batch-${createHash('sha256').update(keys.join('\n')).digest('hex').slice(0, 32)}`;
  return {
    ...first,
    idempotencyKey: key,
    body: members.map((m) => m.body) as Json,
    headers: { ...first.headers, 'content-type': 'application/json' },
    meta: { ...first.meta, batch: { size: members.length, members: members.map((m) => m.id) } },
  };
}
