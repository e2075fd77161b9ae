/**
 * @module store/postgres/signals
 * What the nodes on one PostgreSQL store tell each other, over `LISTEN/NOTIFY`:
 * a wake (messages became due: an idle worker claims now instead of at its next
 * poll) and published values by topic and key (a flow's answer for the node
 * holding the HTTP request). A wake is sent once the commit that made messages
 * due has returned (in a transaction of its own: see the PostgreSQL store's
 * enqueue for why not inside it), so nobody is woken for a message that was
 * rolled back.
 *
 * Every node listens on one dedicated connection of its own (not the pool's: a
 * LISTEN belongs to its session), opened when the first subscriber comes and
 * reopened with backoff when it drops. While it is down nothing is lost that
 * matters: workers still poll, and a waiting HTTP caller times out with the
 * message id as it would on one node.
 *
 * The channel is named after the store's schema, so installations sharing a
 * database in two schemas do not wake each other. A payload too big for NOTIFY
 * (8000 bytes) is written to the `signals` table and the notification carries
 * its row id; such rows are deleted after {@link SIGNAL_TTL_MS}.
 */
import { createHash } from 'node:crypto';
import pg from 'pg';
import type { Queryable } from './connection.ts';
import { sql } from './sql.ts';

/** NOTIFY refuses payloads of 8000 bytes or more; ours leaves room for the topic and key. */
export const MAX_INLINE_BYTES = 7000;
/** How long a payload stored in `signals` is kept for a listener to read it. */
export const SIGNAL_TTL_MS = 120_000;
const WAKE = 'w';
const VALUE = 'v';
const STORED = 's';
const SEP = '\u0001';

/** The NOTIFY channel of a schema ('' for the server's default): an identifier of at most 63 bytes. */
export function channelOf(namespace: string): string {
  return `junction_${createHash('sha256').update(namespace, 'utf8').digest('hex').slice(0, 24)}`;
}

/** Sends a wake; inside a transaction it is delivered on its commit and dropped on rollback. */
export async function notifyWake(tx: Queryable, channel: string): Promise<void> {
  await tx.query(sql.notify, [channel, WAKE]);
}

/** A published value as a subscriber gets it: the key, and the payload read on demand (it may live in a row). */
export type SignalHandler = (key: string, read: () => Promise<string>) => void;

export interface SignalsOptions {
  url: string;
  channel: string;
  /** Set as search_path on the listening connection, for reading stored payloads. */
  schema: string | undefined;
  connectionTimeoutMs: number;
  /** Runs a statement on the store's pool, each its own transaction. */
  query: (what: string, fn: (db: Queryable, now: number) => Promise<unknown>) => Promise<unknown>;
  /** Reconnection backoff bounds. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

export interface Signals {
  onWake(fn: () => void): () => void;
  publish(topic: string, key: string, payload: string): Promise<void>;
  subscribe(topic: string, fn: SignalHandler): () => void;
  /** Resolves once the listening connection is up and LISTENing (tests, start-up). */
  listening(): Promise<void>;
  close(): Promise<void>;
}

export function createSignals(opts: SignalsOptions): Signals {
  const wakes = new Set<() => void>();
  const topics = new Map<string, Set<SignalHandler>>();
  const minBackoffMs = opts.minBackoffMs ?? 100;
  const maxBackoffMs = opts.maxBackoffMs ?? 5000;
  let client: pg.Client | undefined;
  let connecting: Promise<void> | undefined;
  let failures = 0;
  let retry: NodeJS.Timeout | undefined;
  let closed = false;
  /** Resolvers of listening() waiting for the next successful LISTEN. */
  let upWaiters: (() => void)[] = [];

  const subscribers = (): number => wakes.size + [...topics.values()].reduce((n, s) => n + s.size, 0);

  function dispatch(payload: string): void {
    if (payload === WAKE) {
      for (const fn of wakes) fn();
      return;
    }
    // kind SEP topic SEP key SEP rest; the rest (a payload) may hold the separator itself.
    const a = payload.indexOf(SEP);
    const b = payload.indexOf(SEP, a + 1);
    const c = payload.indexOf(SEP, b + 1);
    if (a < 0 || b < 0 || c < 0) return;
    const kind = payload.slice(0, a);
    const handlers = topics.get(payload.slice(a + 1, b));
    if (handlers === undefined) return;
    const key = payload.slice(b + 1, c);
    const rest = payload.slice(c + 1);
    const read =
      kind === STORED
        ? () => readStored(rest)
        : () => Promise.resolve(rest);
    for (const fn of handlers) fn(key, read);
  }

  async function readStored(id: string): Promise<string> {
    const out = await opts.query('read a signal', async (db) => (await db.query(sql.selectSignal, [id])).rows[0]?.payload);
    if (typeof out !== 'string') throw new Error(`signal ${id} is gone (kept ${SIGNAL_TTL_MS} ms)`);
    return out;
  }

  function connect(): Promise<void> {
    connecting ??= (async () => {
      const c = new pg.Client({
        connectionString: opts.url,
        connectionTimeoutMillis: opts.connectionTimeoutMs,
        application_name: 'junction-listen',
        keepAlive: true,
        ...(opts.schema === undefined ? {} : { options: `-c search_path=${opts.schema}` }),
      });
      // Without a listener, a dropped connection's 'error' would end the process.
      c.on('error', () => lost(c));
      c.on('end', () => lost(c));
      c.on('notification', (n) => {
        if (n.channel === opts.channel) dispatch(n.payload ?? '');
      });
      try {
        await c.connect();
        await c.query(`LISTEN ${opts.channel}`);
      } catch {
        await c.end().catch(() => undefined);
        scheduleReconnect();
        return;
      }
      if (closed) {
        await c.end().catch(() => undefined);
        return;
      }
      client = c;
      failures = 0;
      // Whatever became due while nobody listened is found now rather than at the next poll.
      if (wakes.size > 0) for (const fn of wakes) fn();
      const waiting = upWaiters;
      upWaiters = [];
      for (const fn of waiting) fn();
    })().finally(() => {
      connecting = undefined;
    });
    return connecting;
  }

  function lost(c: pg.Client): void {
    if (client !== c) return;
    client = undefined;
    c.end().catch(() => undefined);
    scheduleReconnect();
  }

  function scheduleReconnect(): void {
    if (closed || retry !== undefined || subscribers() === 0) return;
    const delay = Math.min(maxBackoffMs, minBackoffMs * 2 ** failures);
    failures++;
    retry = setTimeout(() => {
      retry = undefined;
      void connect();
    }, delay);
    retry.unref();
  }

  function ensure(): void {
    if (!closed && client === undefined && retry === undefined) void connect();
  }

  return {
    onWake(fn) {
      wakes.add(fn);
      ensure();
      return () => {
        wakes.delete(fn);
      };
    },

    subscribe(topic, fn) {
      let set = topics.get(topic);
      if (set === undefined) topics.set(topic, (set = new Set()));
      set.add(fn);
      ensure();
      return () => {
        set.delete(fn);
      };
    },

    async publish(topic, key, payload) {
      const inline = [VALUE, topic, key, payload].join(SEP);
      if (Buffer.byteLength(inline, 'utf8') <= MAX_INLINE_BYTES) {
        await opts.query(`publish ${topic}`, (db) => db.query(sql.notify, [opts.channel, inline]));
        return;
      }
      // Too big for NOTIFY: the row and the notification naming it commit together.
      await opts.query(`publish ${topic}`, (db, now) => db.query(sql.publishStored, [opts.channel, topic, key, payload, now, now - SIGNAL_TTL_MS, STORED, SEP]));
    },

    listening() {
      if (client !== undefined) return Promise.resolve();
      ensure();
      return new Promise((resolve) => upWaiters.push(resolve));
    },

    async close() {
      closed = true;
      if (retry !== undefined) clearTimeout(retry);
      retry = undefined;
      await connecting?.catch(() => undefined);
      const c = client;
      client = undefined;
      for (const fn of upWaiters) fn();
      upWaiters = [];
      await c?.end().catch(() => undefined);
    },
  };
}
