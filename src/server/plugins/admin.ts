/**
 * @module server/plugins/admin
 * The admin API under `/admin`: flows, connectors, messages and dead letters
 * (list, show, replay, purge), as JSON. Every route, and every unknown path
 * under `/admin`, first checks `Authorization: Bearer <server.adminToken>`
 * (`server/admin/token.ts`); without a configured token the whole API answers
 * 404 JNC_ADMIN_DISABLED. What it shows never holds a secret: credentials by
 * kind only, credential headers hidden, the flow's `redact` fields masked.
 */
import type { FastifyInstance } from 'fastify';
import type { Secret } from '../../core/secret.ts';
import type { ConnectorOptions } from '../../connectors/registry.ts';
import { errors } from '../../core/errors.ts';
import type { LiveStats } from '../../observability/live-stats.ts';
import type { Logger } from '../../observability/logger.ts';
import { forDisplay, summaryForDisplay } from '../../observability/mask.ts';
import { redactUrl } from '../../observability/redact.ts';
import type { Store } from '../../store/store.ts';
import { parseFilter, parseSelector } from '../admin/selector.ts';
import { parseSeriesQuery } from '../admin/series.ts';
import type { DeadLetterSelector } from '../../store/store.ts';
import { adminTokenCheck } from '../admin/token.ts';
import { connectorView, flowView, type FlowSummary } from '../admin/views.ts';
import type { ConnectorState } from '../../connectors/connector.ts';
import { sendProblem } from '../problem.ts';
import type { WorkerView } from '../../runtime/worker.ts';

export interface AdminOptions {
  /** `server.adminToken`; undefined disables the admin API. */
  token: Secret | undefined;
  store: Store;
  flows: Readonly<Record<string, FlowSummary>>;
  connectors: Readonly<Record<string, ConnectorOptions>>;
  /** The live state of a connector's policies, for its view. */
  connectorState: (name: string) => ConnectorState | undefined;
  /** Drops a connector's cached answers: how many, or undefined when it has no cache. */
  purgeCache?: (name: string) => number | undefined;
  /** Enables a connector's endpoint (a disabled webhook): false when it has nothing to enable. */
  enable?: (name: string) => Promise<boolean>;
  /** The connectors that can be enabled, named in the refusal for any other. */
  enableable?: readonly string[];
  /** Messages a filter dropped in this process, for one flow. */
  dropped: (flow: string) => number;
  /** This process's live figures per flow and connector. */
  stats: LiveStats;
  /** Wakes the worker, so that replayed messages start now rather than at its next poll. */
  wake: () => void;
  /** This process's worker: its slots and how its messages came to it. */
  worker: () => WorkerView;
  logger: Logger;
}

export const ADMIN_PREFIX = '/admin';
/** A page of dead letters: its default and largest size (`junction dlq list --limit` takes the same range). */
export const DEFAULT_PAGE = 50;
export const MAX_PAGE = 500;

const idParams = {
  type: 'object',
  properties: { id: { type: 'string', minLength: 1, maxLength: 200 } },
  required: ['id'],
} as const;

const listQuery = {
  type: 'object',
  properties: {
    flow: { type: 'string', minLength: 1 },
    code: { type: 'string', minLength: 1, maxLength: 200 },
    since: { type: 'string', minLength: 1 },
    until: { type: 'string', minLength: 1 },
    limit: { type: 'integer', minimum: 1, maximum: MAX_PAGE, default: DEFAULT_PAGE },
    before: { type: 'string', minLength: 1 },
  },
} as const;

const seriesQuery = {
  type: 'object',
  properties: { span: { type: 'string', default: '1h' }, step: { type: 'string', default: '1m' } },
} as const;

type ListQuery = { flow?: string; code?: string; since?: string; until?: string; limit: number; before?: string };

export function registerAdminRoutes(app: FastifyInstance, opts: AdminOptions): void {
  void app.register(async (admin) => adminRoutes(admin, opts), { prefix: ADMIN_PREFIX });
}

async function adminRoutes(admin: FastifyInstance, opts: AdminOptions): Promise<void> {
  const { store } = opts;
  const check = adminTokenCheck(opts.token);
  const fieldsOf = (flow: string): readonly string[] => opts.flows[flow]?.redact ?? [];

  // onRequest: before the body is even parsed, so an unauthenticated caller costs nothing and learns nothing.
  admin.addHook('onRequest', async (req, reply) => {
    const refusal = check(req.headers.authorization);
    if (!refusal) return;
    if (refusal.error.status === 401) opts.logger.warn({ ip: req.ip, method: req.method, url: redactUrl(req.url) }, 'admin API: request refused (missing or wrong token)');
    if (refusal.challenge) reply.header('www-authenticate', refusal.challenge);
    return sendProblem(reply, refusal.error);
  });
  // After the token check, so that an unknown admin path tells an unauthenticated caller nothing either.
  admin.setNotFoundHandler((req, reply) => sendProblem(reply, errors.NOT_FOUND.create([req.method, req.url.split('?')[0]])));

  admin.get('/flows', async () => ({
    flows: await Promise.all(Object.entries(opts.flows).map(async ([name, flow]) => flowView(name, flow, await store.stats(name), opts.dropped(name), opts.stats.flow(name)))),
  }));

  admin.get('/worker', async () => opts.worker());

  admin.get('/connectors', async () => ({
    connectors: Object.entries(opts.connectors).map(([name, c]) => connectorView(name, c, opts.connectorState(name), opts.stats.connector(name))),
  }));

  admin.delete<{ Params: { name: string } }>('/connectors/:name/cache', async (req) => {
    const { name } = req.params;
    const purged = opts.purgeCache?.(name);
    if (purged === undefined) {
      const cached = Object.entries(opts.connectors).filter(([, c]) => c.cache !== undefined).map(([n]) => n);
      throw errors.CACHE_UNKNOWN.create([name, cached.join(', ') || '(none)']);
    }
    opts.logger.info({ connector: name, purged }, 'admin API: connector cache purged');
    return { connector: name, purged };
  });

  admin.post<{ Params: { name: string } }>('/connectors/:name/enable', async (req) => {
    const { name } = req.params;
    const enabled = (await opts.enable?.(name)) ?? false;
    if (!enabled) throw errors.ENABLE_UNKNOWN.create([name, opts.enableable?.join(', ') || '(none)']);
    opts.logger.info({ connector: name }, 'admin API: connector endpoint enabled');
    return { connector: name, state: opts.connectorState(name) };
  });

  admin.get<{ Params: { id: string } }>('/messages/:id', { schema: { params: idParams } }, async (req) => {
    const rec = await store.getMessage(req.params.id);
    if (!rec) throw errors.MESSAGE_UNKNOWN.create([req.params.id]);
    return forDisplay(rec, fieldsOf(rec.flow));
  });

  admin.get<{ Params: { name: string }; Querystring: { span: string; step: string } }>('/flows/:name/series', { schema: { querystring: seriesQuery } }, async (req) => {
    const { name } = req.params;
    if (!Object.hasOwn(opts.flows, name)) throw errors.SERIES_UNKNOWN.create(['flow', name, 'flow', Object.keys(opts.flows).join(', ') || '(none)']);
    const { spanMs, stepMs } = parseSeriesQuery(req.query);
    return { flow: name, spanMs, stepMs, points: opts.stats.series('flow', name, spanMs, stepMs) };
  });

  admin.get<{ Params: { name: string }; Querystring: { span: string; step: string } }>('/connectors/:name/series', { schema: { querystring: seriesQuery } }, async (req) => {
    const { name } = req.params;
    if (!Object.hasOwn(opts.connectors, name)) throw errors.SERIES_UNKNOWN.create(['connector', name, 'connector', Object.keys(opts.connectors).join(', ') || '(none)']);
    const { spanMs, stepMs } = parseSeriesQuery(req.query);
    return { connector: name, spanMs, stepMs, points: opts.stats.series('connector', name, spanMs, stepMs) };
  });

  admin.get<{ Querystring: ListQuery }>('/dead-letters', { schema: { querystring: listQuery } }, async (req) => {
    const { limit, before } = req.query;
    const filter = parseFilter(req.query);
    const rows = await store.deadLetters.list({ ...filter, limit, ...(before === undefined ? {} : { before }) });
    return {
      deadLetters: await Promise.all(rows.map((row) => summaryForDisplay(row, fieldsOf(row.flow), store.deadLetters))),
      // How many match the filter, across every page.
      total: await store.deadLetters.count(filter),
      // A full page may have a successor: ask for it with before=next.
      ...(rows.length === limit && rows.length > 0 ? { next: rows[rows.length - 1]!.id } : {}),
    };
  });

  admin.get<{ Params: { id: string } }>('/dead-letters/:id', { schema: { params: idParams } }, async (req) => {
    const dl = await store.deadLetters.get(req.params.id);
    if (!dl) throw errors.DEAD_LETTER_UNKNOWN.create([req.params.id]);
    return forDisplay(dl, fieldsOf(dl.flow));
  });

  admin.post('/dead-letters/replay', async (req) => {
    const sel = parseSelector(req.body);
    const replayed = await store.deadLetters.replay(sel);
    if (replayed.length > 0) opts.wake();
    opts.logger.info({ count: replayed.length, selector: logged(sel) }, 'admin API: dead letters replayed');
    if (!('ids' in sel)) return { replayed };
    const done = new Set(replayed);
    return { replayed, notFound: sel.ids.filter((id) => !done.has(id)) };
  });

  admin.post('/dead-letters/purge', async (req) => {
    const sel = parseSelector(req.body);
    const purged = await store.deadLetters.purge(sel);
    opts.logger.info({ count: purged, selector: logged(sel) }, 'admin API: dead letters purged');
    return { purged };
  });
}

/** A selector as logged: ids by how many (a bulk replay would otherwise write them all). */
function logged(sel: DeadLetterSelector): unknown {
  return 'ids' in sel ? { ids: sel.ids.length } : sel;
}
