/**
 * @module test/helpers/sink
 * A real HTTP receiver on loopback that records every request and misbehaves on
 * demand: the "flaky REST sink" of DESIGN.md, shared by connector, e2e, crash and
 * benchmark tests.
 *
 * ```ts
 * const sink = await startTestSink(t);          // startSink(), closed when the test ends
 * sink.plan(['503', '429:2', 'reset']);         // the next three requests, in order
 * sink.plan(['400'], { key: 'order-7' });       // requests whose Idempotency-Key is order-7
 * sink.setDefault('503');                       // then: "down" until told otherwise
 * // … point a connector at sink.url …
 * assert.equal(sink.received().get('order-1'), 1);
 * ```
 *
 * Which behaviour answers a request: the next one planned for its idempotency
 * key, else the next one of the shared plan, else the default (`'200'`).
 *
 * Behaviours (a string each, checked when planned):
 *
 * | behaviour       | what the sink does |
 * |-----------------|--------------------|
 * | `'200'`, `'503'`… `'NNN'` | answers that status; 2xx with `{"ok":true}`, others with `{"error":"…"}` |
 * | `'429:2'`, `'NNN:S'`      | the same, with `Retry-After: S` (delay-seconds) |
 * | `'429:date'`, `'NNN:date:S'` | the same, with `Retry-After` as an HTTP date S seconds ahead (default 2) |
 * | `'slow:MS'`     | waits MS before sending anything, then answers 200 |
 * | `'slowbody:MS'` | sends 200 and half of the body at once, the rest after MS |
 * | `'big:N'`       | answers 200 with a body of N bytes |
 * | `'reset'`       | reads the request, then resets the socket without answering |
 * | `'hang'`        | reads the request and never answers (until `close()`) |
 *
 * Also a standalone process: `node test/helpers/sink.ts --port 4010 [--default 503]`.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { TestContext } from 'node:test';

/** One behaviour, in the syntax of the table above. */
export type Behaviour = string;

/** A request as the sink received it. */
export interface SinkRequest {
  method: string;
  /** Path and query string, as sent. */
  url: string;
  /** Lower-case names, as node:http gives them. */
  headers: IncomingHttpHeaders;
  idempotencyKey: string | undefined;
  body: string;
  /** Date.now() when the whole request had arrived. */
  at: number;
  /** The behaviour applied to it. */
  behaviour: Behaviour;
  /** The status the sink chose; undefined for `reset` and `hang`. */
  status: number | undefined;
}

export interface SinkOptions {
  /** Behaviour when nothing is planned; default `'200'`. */
  default?: Behaviour;
  /** Default 0: a free port. */
  port?: number;
  /** Default `127.0.0.1`. */
  host?: string;
}

export interface Sink {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  readonly url: string;
  readonly port: number;
  /** Every request received, in order of arrival (complete body). */
  readonly requests: readonly SinkRequest[];
  /** TCP connections accepted so far (keep-alive reuse shows as few connections). */
  readonly connections: number;
  /** Appends behaviours to the shared plan, or to the plan of one idempotency key. */
  plan(behaviours: readonly Behaviour[], opts?: { key?: string }): void;
  /** The behaviour once plans run out; e.g. `'503'` for a receiver that is down. */
  setDefault(behaviour: Behaviour): void;
  /**
   * Idempotency key → number of requests with that key that the sink answered 2xx.
   * Counted when the sink decides to answer, so a 2xx whose answer is then lost
   * (`slowbody` past the client's timeout) still counts: the receiver processed it.
   * Requests without a key are not counted.
   */
  received(): Map<string, number>;
  /** Resolves once `predicate(sink)` holds, checked now and after each request. */
  waitFor(predicate: (sink: Sink) => boolean, timeoutMs?: number): Promise<void>;
  /** Forgets requests, counts and plans (not the default). */
  clear(): void;
  /** Stops listening and destroys every socket, kept-alive and hanging ones included. */
  close(): Promise<void>;
}

type Parsed =
  | { kind: 'status'; status: number; retryAfterSeconds?: number; retryAfterDateSeconds?: number }
  | { kind: 'slow' | 'slowbody'; ms: number }
  | { kind: 'big'; bytes: number }
  | { kind: 'reset' | 'hang' };

/** Reads one behaviour; throws on a typo so that a test fails where it plans. */
export function parseBehaviour(b: Behaviour): Parsed {
  const parts = b.split(':');
  const [head, arg, extra] = parts;
  const int = (s: string | undefined): number | undefined => (s !== undefined && /^\d+$/.test(s) ? Number(s) : undefined);
  if (head !== undefined && /^[1-5]\d\d$/.test(head)) {
    const status = Number(head);
    if (parts.length === 1) return { kind: 'status', status };
    if (arg === 'date' && parts.length <= 3) {
      const seconds = extra === undefined ? 2 : int(extra);
      if (seconds !== undefined) return { kind: 'status', status, retryAfterDateSeconds: seconds };
    }
    const seconds = int(arg);
    if (seconds !== undefined && parts.length === 2) return { kind: 'status', status, retryAfterSeconds: seconds };
  }
  if ((head === 'slow' || head === 'slowbody') && parts.length === 2) {
    const ms = int(arg);
    if (ms !== undefined) return { kind: head, ms };
  }
  if (head === 'big' && parts.length === 2) {
    const bytes = int(arg);
    if (bytes !== undefined) return { kind: 'big', bytes };
  }
  if ((head === 'reset' || head === 'hang') && parts.length === 1) return { kind: head };
  throw new Error(`sink: unknown behaviour "${b}" (expected NNN, NNN:S, NNN:date[:S], slow:MS, slowbody:MS, big:N, reset or hang)`);
}

/** A sink for one test: closed when the test ends. */
export async function startTestSink(t: TestContext, opts: SinkOptions = {}): Promise<Sink> {
  const sink = await startSink(opts);
  t.after(() => sink.close());
  return sink;
}

export async function startSink(opts: SinkOptions = {}): Promise<Sink> {
  let fallback: Behaviour = opts.default ?? '200';
  parseBehaviour(fallback);
  const shared: Behaviour[] = [];
  const byKey = new Map<string, Behaviour[]>();
  const requests: SinkRequest[] = [];
  const received = new Map<string, number>();
  const timers = new Set<NodeJS.Timeout>();
  const waiters = new Set<() => void>();
  let connections = 0;

  const later = (ms: number, fn: () => void): void => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };

  const next = (key: string | undefined): Behaviour => {
    const own = key === undefined ? undefined : byKey.get(key);
    return own?.shift() ?? shared.shift() ?? fallback;
  };

  const answer = (record: SinkRequest, res: ServerResponse, status: number, body: Buffer, headers: Record<string, string> = {}): void => {
    record.status = status;
    if (status >= 200 && status < 300 && record.idempotencyKey !== undefined) {
      received.set(record.idempotencyKey, (received.get(record.idempotencyKey) ?? 0) + 1);
    }
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(body.length), ...headers });
    // A slow answer counts only now: waiters look again, or the last one would never be seen.
    for (const w of [...waiters]) w();
  };

  const jsonBody = (status: number): Buffer =>
    Buffer.from(JSON.stringify(status >= 200 && status < 300 ? { ok: true } : { error: `sink answered ${status}` }));

  const respond = (req: IncomingMessage, res: ServerResponse, record: SinkRequest, b: Parsed): void => {
    const gone = (): boolean => req.socket.destroyed;
    switch (b.kind) {
      case 'status': {
        const headers: Record<string, string> = {};
        if (b.retryAfterSeconds !== undefined) headers['retry-after'] = String(b.retryAfterSeconds);
        if (b.retryAfterDateSeconds !== undefined) headers['retry-after'] = new Date(Date.now() + b.retryAfterDateSeconds * 1000).toUTCString();
        const body = jsonBody(b.status);
        answer(record, res, b.status, body, headers);
        res.end(body);
        return;
      }
      case 'slow':
        later(b.ms, () => {
          if (gone()) return;
          const body = jsonBody(200);
          answer(record, res, 200, body);
          res.end(body);
        });
        return;
      case 'slowbody': {
        const body = jsonBody(200);
        const half = Math.floor(body.length / 2);
        answer(record, res, 200, body);
        // Headers and a first chunk go out now: the client has its headers and waits on the body.
        res.write(body.subarray(0, half));
        later(b.ms, () => {
          if (!gone()) res.end(body.subarray(half));
        });
        return;
      }
      case 'big': {
        const body = Buffer.alloc(b.bytes, 'x');
        answer(record, res, 200, body, { 'content-type': 'application/octet-stream' });
        res.end(body);
        return;
      }
      case 'reset':
        req.socket.resetAndDestroy();
        return;
      case 'hang':
        return;
    }
  };

  const server = createServer({ keepAliveTimeout: 5000 }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const key = req.headers['idempotency-key'];
      const idempotencyKey = Array.isArray(key) ? key[0] : key;
      const behaviour = next(idempotencyKey);
      const record: SinkRequest = {
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        headers: req.headers,
        idempotencyKey,
        body: Buffer.concat(chunks).toString('utf8'),
        at: Date.now(),
        behaviour,
        status: undefined,
      };
      requests.push(record);
      respond(req, res, record, parseBehaviour(behaviour));
      for (const w of [...waiters]) w();
    });
  });
  server.on('connection', (socket: Socket) => {
    connections++;
    // A client that resets is business as usual here, not a crash of the sink.
    socket.on('error', () => {});
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let closed: Promise<void> | undefined;

  const sink: Sink = {
    url: `http://${host}:${address.port}`,
    port: address.port,
    requests,
    get connections() {
      return connections;
    },
    plan(behaviours, planOpts = {}) {
      for (const b of behaviours) parseBehaviour(b);
      if (planOpts.key === undefined) {
        shared.push(...behaviours);
        return;
      }
      const own = byKey.get(planOpts.key) ?? [];
      own.push(...behaviours);
      byKey.set(planOpts.key, own);
    },
    setDefault(behaviour) {
      parseBehaviour(behaviour);
      fallback = behaviour;
    },
    received: () => new Map(received),
    waitFor(predicate, timeoutMs = 5000) {
      return new Promise<void>((resolve, reject) => {
        if (predicate(sink)) return resolve();
        const check = (): void => {
          if (!predicate(sink)) return;
          done();
          resolve();
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`sink.waitFor: condition not met within ${timeoutMs}ms (${requests.length} requests so far)`));
        }, timeoutMs);
        const done = (): void => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
      });
    },
    clear() {
      requests.length = 0;
      received.clear();
      shared.length = 0;
      byKey.clear();
      connections = 0;
    },
    close() {
      closed ??= new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        timers.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
  return sink;
}

if (import.meta.main) {
  const arg = (name: string): string | undefined => {
    const i = process.argv.indexOf(`--${name}`);
    return i === -1 ? undefined : process.argv[i + 1];
  };
  const sink = await startSink({ port: Number(arg('port') ?? 4010), host: arg('host') ?? '127.0.0.1', default: arg('default') ?? '200' });
  console.log(`sink listening on ${sink.url}`);
  const stop = (): void => {
    void sink.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
