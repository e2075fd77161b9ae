/**
 * @module store/store
 * The only place where state lives. Callers depend on this interface alone, so a
 * PostgreSQL implementation can replace the embedded SQLite one without changing them.
 * `test/store/contract.ts` states the same contract as executable tests.
 */
import type { ResponseSnapshot } from '../core/call.ts';
import type { AttemptRecord, Json, Message, NewMessage, Outcome } from '../core/message.ts';
import type { RateLimiterFactory } from '../core/rate-limiter.ts';

export type MessageState = 'queued' | 'running' | 'done' | 'dead';

export interface EnqueueResult {
  id: string;
  /** True when the dedupe key was seen before in this flow; `id` is then the first message's. */
  duplicate: boolean;
  /** Set when the message was leased to `opts.claim.worker` as it was stored: its first attempt. */
  lease?: { token: string; until: number } | undefined;
}

export interface EnqueueOptions {
  /**
   * What a dedupe key that comes back with another body means. `refuse` (the
   * default): the sender reused its key for a new message, and the batch is
   * refused with JNC_IDEMPOTENCY_KEY_REUSED. `keep-first`: the key names the
   * message whatever its body, and the first one stands; for keys Junction derives
   * itself (the parts of a split), where a parent run again after a crash is the
   * same message even if a step before the split (an enrich, a `$now()`) gave a
   * different answer the second time.
   */
  onKeyReuse?: 'refuse' | 'keep-first';
  /**
   * Saved under its key in the same transaction as the batch, replacing the value
   * there: committed with the messages or not at all (a refused batch saves
   * nothing). A poll trigger passes where it read up to, so a crash can neither
   * keep the checkpoint without the records (they would be lost) nor the records
   * without it (they would be read again). An empty batch still saves it: a poll
   * that found nothing new moves on.
   */
  checkpoint?: Checkpoint;
  /**
   * Leases up to `limit` of the new messages that are due now to `worker`, in
   * the same transaction that stores them, as a claim would (attempt 1, lease
   * until now + leaseMs): the local worker, which has that many free slots,
   * takes them from memory instead of claiming them back. Duplicates and
   * messages due later are not leased. Such a message is held exactly as a
   * claimed one is: settle and extendLease present its lease, and when the
   * lease runs out (its holder died) any worker claims it again.
   */
  claim?: { worker: string; leaseMs: number; limit: number };
}

/** Where a trigger left off: a key (its flow, say) and a JSON value of the trigger's own. */
export interface Checkpoint {
  key: string;
  /** Stored and read back as JSON, whole; e.g. `{ updatedAt: '2025-01-01T00:00:00Z', cursor: 'c-42' }`. */
  value: Json;
}

/**
 * A message leased by `enqueue`'s `claim`, as the worker gets it: built from
 * what the caller stored, so nothing is read back or copied across a thread.
 */
export function claimedAtEnqueue(m: NewMessage, r: EnqueueResult): Claimed | undefined {
  if (r.lease === undefined) return undefined;
  return {
    id: r.id,
    flow: m.flow,
    attempt: 1,
    idempotencyKey: m.dedupeKey ?? r.id,
    ...(m.traceparent === undefined ? {} : { traceparent: m.traceparent }),
    body: m.body,
    headers: m.headers ?? {},
    meta: m.meta ?? {},
    startStep: m.startStep ?? 0,
    lease: r.lease.token,
    leaseUntil: r.lease.until,
  };
}

/** A message held by one worker until `leaseUntil`. */
export interface Claimed extends Message {
  /** Opaque token; settle and extendLease must present it. */
  readonly lease: string;
  readonly leaseUntil: number;
}

export interface ClaimQuery {
  /** Names the claimer, for the admin view and for debugging. */
  worker: string;
  limit: number;
  leaseMs: number;
}

export interface LeaseRef {
  id: string;
  lease: string;
}

/** A message as the admin API and tests see it, with its whole history. */
export interface MessageRecord {
  id: string;
  flow: string;
  state: MessageState;
  idempotencyKey: string;
  dedupeKey: string | null;
  body: Json;
  headers: Record<string, string>;
  meta: Record<string, Json>;
  traceparent: string | null;
  startStep: number;
  /** Attempts spent since the message was created or last replayed. */
  attempts: number;
  replays: number;
  createdAt: number;
  runAt: number;
  updatedAt: number;
  leaseOwner: string | null;
  leaseUntil: number | null;
  history: AttemptRecord[];
}

export interface DeadLetterSummary {
  id: string;
  flow: string;
  idempotencyKey: string;
  attempts: number;
  errorCode: string;
  error: string;
  deadAt: number;
}

/** A dead letter keeps the original payload, the reason, the last response and every attempt. */
export interface DeadLetter extends DeadLetterSummary {
  body: Json;
  headers: Record<string, string>;
  meta: Record<string, Json>;
  /** The error's message and the messages of its causes, outermost first. */
  reason: string[];
  lastResponse: ResponseSnapshot | null;
  history: AttemptRecord[];
  createdAt: number;
  replays: number;
}

/**
 * Dead letters that match every field given (none given: all of them). Times
 * are of the dead-lettering, in ms since the epoch.
 */
export interface DeadLetterFilter {
  flow?: string;
  /** The error code stored with the dead letter (`JNC_HTTP_REJECTED`…). */
  code?: string;
  /** Dead at or after this time. */
  since?: number;
  /** Dead before this time. */
  until?: number;
}

/** Which dead letters an operation applies to. */
export type DeadLetterSelector = { ids: string[] } | { flow: string } | { all: true } | { filter: DeadLetterFilter };

export interface DeadLetterStore {
  /**
   * Newest first (dead_at, then id), those matching the filter. `before` is a
   * dead letter id from a previous page (rejects with JNC_DEAD_LETTER_UNKNOWN
   * when it is no longer a dead letter). A page reads at most `limit` rows of an
   * index, however many dead letters there are.
   */
  list(q?: DeadLetterFilter & { limit?: number; before?: string }): Promise<DeadLetterSummary[]>;
  get(id: string): Promise<DeadLetter | undefined>;
  /** How many dead letters match: of one flow (a name), or of a filter. */
  count(filter?: string | DeadLetterFilter): Promise<number>;
  /**
   * Moves the selected dead letters back to the queue, due now, with their attempts
   * reset to zero. The message keeps its id, body and idempotency key, so a receiver
   * that honours the key sees the replay as the same message. Their history is kept.
   * Resolves with the ids replayed, after commit; unknown ids are skipped.
   */
  replay(sel: DeadLetterSelector): Promise<string[]>;
  /** Deletes the selected dead letters for good; resolves with how many. */
  purge(sel: DeadLetterSelector): Promise<number>;
}

export type QueueStats = Record<MessageState, number>;

/** What one retention pass deletes: rows older than these times, at most `limit` of each kind. */
export interface SweepQuery {
  /** Done messages done before this time (ms) go, and with them their dedupe keys. */
  doneBefore: number;
  /** Dead letters dead before this time (ms) go. */
  deadBefore: number;
  limit: number;
}

export interface SweepResult {
  done: number;
  dead: number;
}

/**
 * Values by key, shared by every process on the store. Each call is its own
 * transaction; nothing here is ordered with the queue's writes.
 */
export interface KeyValue<T> {
  /** The value stored under `key`, or undefined. */
  get(key: string): Promise<T | undefined>;
  /**
   * Creates or replaces the value; resolves after commit. Two processes setting
   * one key at once: the last commit wins, whole (never a mix of both values).
   */
  set(key: string, value: T): Promise<void>;
  /** Removes the value; resolves true when there was one, after commit. */
  delete(key: string): Promise<boolean>;
}

/**
 * An OAuth 2.0 token set of one connector's credentials (auth/outbound/oauth2),
 * kept in the store so that every worker and every process uses one token.
 * Secrets: never log a record or put one in an error.
 */
export interface TokenRecord {
  accessToken: string;
  /** Milliseconds since the epoch; null when the server gave no lifetime. */
  expiresAt: number | null;
  /** The refresh token to use next (the newest, when the server rotates them), or null. */
  refreshToken: string | null;
  /** When the token endpoint issued this access token, in ms since the epoch. */
  obtainedAt: number;
}

/**
 * What the nodes sharing one store tell each other (PostgreSQL: `LISTEN/NOTIFY`).
 * Signals are hints that speed things up, never the only way something happens:
 * one that is lost (the listening connection was down) costs a poll interval or
 * a caller's timeout, never a message.
 */
export interface StoreSignals {
  /**
   * Calls `fn` on every node whenever messages became due on any node: an
   * enqueue of messages not leased at once, a dead-letter replay, a retry due
   * now. Sent only after the commit that made them due. Resolves an unsubscribe.
   */
  onWake(fn: () => void): () => void;
  /**
   * Sends `payload` under `topic` and `key` to every node's subscribers of
   * `topic` (this node's included), after commit; any size (a big one travels
   * through a table and is read on demand, for a couple of minutes).
   */
  publish(topic: string, key: string, payload: string): Promise<void>;
  /** Calls `fn` with each value published under `topic`; `read` fetches its payload. Returns an unsubscribe. */
  subscribe(topic: string, fn: (key: string, read: () => Promise<string>) => void): () => void;
}

/**
 * The OAuth 2.0 tokens of a store: values by key, and a renewal that one caller
 * at a time makes for a key, across every process on the store.
 */
export interface TokenStore extends KeyValue<TokenRecord> {
  /**
   * Runs `renew` while holding the token under `key` locked against every other
   * `update` of that key on the store, in this process or any other: two nodes
   * whose token is due make one token request, and a rotated refresh token is
   * never used twice. `renew` is given the record as stored once the lock is
   * held (read again: another holder may have just renewed it) and returns the
   * record to store, or undefined to keep the stored one. Resolves with the
   * record stored afterwards, once written (PostgreSQL: an advisory transaction
   * lock, the write committing with it; SQLite: an `exclusive` lock, waited
   * for). If `renew` throws, nothing is written and the call rejects with what
   * it threw. `signal` stops a wait for the lock (rejecting with its reason).
   */
  update(key: string, renew: (current: TokenRecord | undefined) => Promise<TokenRecord | undefined>, signal?: AbortSignal): Promise<TokenRecord | undefined>;
}

export interface Store {
  /** Creates or upgrades the schema. Called once before any other member. */
  migrate(): Promise<void>;
  /** Flushes pending writes and closes. No member may be called afterwards. */
  close(): Promise<void>;
  /** Resolves when the store can answer a query; rejects with JNC_STORE_UNAVAILABLE otherwise. */
  ping(): Promise<void>;

  /**
   * Creates the messages in one transaction and resolves only after that
   * transaction has committed, so the caller may acknowledge them. Writes that
   * arrive together may share a transaction (group commit); none resolves before
   * its own commit. A message whose `dedupeKey` already exists in its flow is not
   * created: its result carries the first message's id and `duplicate: true`.
   * Results are in the order of `batch`.
   *
   * With its dedupe key, a message's body digest is stored in the same
   * transaction (SHA-256 of the body's RFC 8785 canonical JSON; see
   * `store/body-digest.ts`, shared by every store so their digests agree). A key
   * that comes back with a body of another digest is, unless `opts.onKeyReuse` is
   * `keep-first`, refused: the call rejects with JNC_IDEMPOTENCY_KEY_REUSED (422,
   * naming the key and the flow, never a body) and creates none of the batch; the
   * first message is left as it was. The same body again, a replayed dead letter's
   * included (a replay keeps body and key), is a duplicate as above.
   *
   * `opts.checkpoint` commits in the same transaction (see {@link EnqueueOptions}).
   * A batch or checkpoint that cannot be stored as JSON rejects with JNC_INPUT_INVALID
   * and writes nothing.
   */
  enqueue(batch: NewMessage[], opts?: EnqueueOptions): Promise<EnqueueResult[]>;

  /**
   * Takes up to `limit` messages that are due: queued with `runAt <= now`, or
   * running with an expired lease (their holder is presumed dead). Each is
   * leased to `worker` until `now + leaseMs`, and its attempt count goes up by
   * one. Oldest `runAt` first.
   */
  claim(q: ClaimQuery): Promise<Claimed[]>;

  /**
   * Writes an outcome, appends `attempt` to the history (with the Idempotency-Key
   * the attempt sent, when it sent one), and releases the lease:
   * ack → done; retry → queued at `outcome.at` (attempt given back when
   * `spendAttempt` is false); dead → a dead letter. Resolves `false`, writing
   * nothing, when the lease is no longer held (it expired and another worker
   * claimed the message). Resolves after commit.
   */
  settle(ref: LeaseRef, outcome: Outcome, attempt: AttemptRecord | null): Promise<boolean>;

  /** Pushes the leases forward to `now + ms`; resolves with the ids still held. */
  extendLease(refs: LeaseRef[], ms: number): Promise<string[]>;

  getMessage(id: string): Promise<MessageRecord | undefined>;
  stats(flow?: string): Promise<QueueStats>;
  /** The earliest `runAt` among queued messages, or undefined when none are queued. */
  nextRunAt(): Promise<number | undefined>;
  /**
   * Per flow, the earliest `runAt` among its queued messages that are due
   * (`runAt <= now`): how long the oldest of them has waited for a worker. A flow
   * with nothing due is left out; a message waiting out a backoff or an open
   * circuit is not due yet. Read at each metrics scrape.
   */
  oldestDue(): Promise<Record<string, number>>;

  readonly deadLetters: DeadLetterStore;

  /**
   * Deletes, oldest first, at most `limit` done messages done before
   * `doneBefore` and at most `limit` dead letters dead before `deadBefore`, with
   * their attempt history, in one short transaction. A done message's dedupe key
   * goes with it: the same key afterwards is a new message (the dedupe window is
   * the done retention). Never touches a queued or running message. Resolves
   * with how many of each went; a caller deletes a backlog by calling again while
   * a kind comes back full.
   */
  sweep(q: SweepQuery): Promise<SweepResult>;

  /**
   * OAuth 2.0 tokens by key (connector name and a hash of what identifies its
   * credentials). Values are stored as given, tokens in clear: encrypting them at
   * rest is future work, so protect the store as you would the config's secrets.
   */
  readonly tokens: TokenStore;

  /**
   * Trigger checkpoints by key (see {@link Checkpoint}). `set` replaces the value
   * whole; a poll writes its checkpoint through `enqueue` instead, so that it
   * commits with the records it read. A value that is not JSON rejects with
   * JNC_INPUT_INVALID.
   */
  readonly checkpoints: KeyValue<Json>;

  /**
   * Runs `fn` while holding the lock `name`, which one holder at a time may have
   * across every process on the store: a schedule fires on one node only.
   * Resolves `false` at once, without calling `fn`, when the lock is held
   * elsewhere (another process, another call on this store, or `fn` itself: the
   * lock is not reentrant); it never waits for it. Otherwise resolves `true`
   * after `fn` settles, the lock released; if `fn` throws, the lock is released
   * and the call rejects with what `fn` threw.
   *
   * The semantics of PostgreSQL's `pg_try_advisory_lock` (as in graphile-worker),
   * which the PostgreSQL store uses, on a session of its own for each call. A
   * holder that dies loses the lock: PostgreSQL ends its session; SQLite keeps a
   * lease that the holder renews while `fn` runs, and that another holder may
   * take once it has run out. `signal` aborts (with JNC_LOCK_LOST) if the lock is
   * found lost while `fn` still runs (the process was frozen past the lease);
   * `fn` should stop then, since another holder may have started.
   */
  exclusive(name: string, fn: (signal: AbortSignal) => Promise<void>): Promise<boolean>;

  /**
   * Present on a store that many processes share (PostgreSQL); absent where one
   * process owns the store (SQLite), whose worker is woken in memory.
   */
  readonly signals?: StoreSignals;

  /**
   * Present on a store that many processes share (PostgreSQL): rate limiters
   * whose counters every node on the store shares, for the inbound limit per
   * consumer and the outbound limit per connector. Absent: each process counts
   * in its memory (`memoryLimiters`).
   */
  readonly rateLimiters?: RateLimiterFactory;
}
