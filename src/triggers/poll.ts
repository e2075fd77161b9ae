/**
 * @module triggers/poll
 * Calls a connector on an interval and makes each new record one message:
 *
 * ```yaml
 * poll:
 *   connector: crm
 *   every: 1m
 *   request: { method: GET, path: "/items?updated_after={{ $checkpoint }}" }
 *   paginate: { cursor: { param: cursor, from: next_cursor }, items: data }
 *   checkpoint: updatedAt
 * ```
 *
 * Why no record is skipped or made twice, a crash included:
 * - The checkpoint (the largest `checkpoint` value seen) is saved only with the
 *   last page's records, in the same transaction (`ingest(batch, { checkpoint })`).
 *   A run that dies half-way leaves it where it was, so the next run asks for the
 *   same records again.
 * - Each record's dedupe key is its `key` and its checkpoint value (`r-7@2025-…`),
 *   so a record read again is the message it already is, and a record changed
 *   since (a new `updatedAt`) is a new one.
 * - A run holds `store.exclusive('poll:<flow>')`: on many nodes, one polls.
 *
 * The calls go through the connector's whole pipeline (circuit, rate limit,
 * auth…); a paused answer (an open circuit) waits as long as it says.
 */
import { z } from 'zod';
import { errors, isJunctionError } from '../core/errors.ts';
import { duration } from '../core/duration.ts';
import { compileExpression, expression } from '../core/expression.ts';
import type { Json, Message, NewMessage } from '../core/message.ts';
import { errorForResponse } from '../connectors/response-error.ts';
import { checkPaginateFits, compilePaginate, paginateOptions, type Page, type PageRequest } from '../steps/paginate.ts';
import { compileStepRequest, connectorStepOptions, requestOption } from '../steps/request.ts';
import type { RequestUse } from '../connectors/request-kind.ts';
import type { Ingest } from './ingest.ts';
import { sleep } from '../core/sleep.ts';
import { defineTrigger } from './trigger.ts';
import { startTriggerRun, type TriggerRun } from './trigger-run.ts';

/** A poll reads a listing with GET; POST for search endpoints that take their filter in a body. */
export const POLL_USE: RequestUse = { methods: ['GET', 'POST'], defaultMethod: 'GET' };

export const pollOptions = connectorStepOptions({
  connector: z.string().min(1).describe('Name of a connector under `connectors`; the calls go through its policies.'),
  every: duration.describe('Time between the end of one run and the start of the next: a number of milliseconds, or 30s, 1m, 1h.'),
  request: requestOption(POLL_USE, 'The request (rest: method GET or POST, path, headers, query); `{{ $checkpoint }}` gives where the last run left off.'),
  paginate: paginateOptions.optional(),
  items: expression.optional().describe('Without paginate: JSONata expression that picks the records out of the answer; default: the answer itself (an array).'),
  checkpoint: expression.optional().describe('JSONata expression on each record giving the value to resume after (e.g. updatedAt); the largest seen is kept. Without it, every run reads from the start and dedupe keys drop what was seen.'),
  initial: z.union([z.string().min(1), z.number()]).default('1970-01-01T00:00:00Z').describe('`$checkpoint` before the first run has saved one.'),
  key: expression.default('id').describe('JSONata expression on each record giving its id; with its checkpoint value, it is the message\'s dedupe key.'),
})
  .describe('Call a connector on an interval; each new record becomes one message, its checkpoint committed with it.');

export type PollOptions = z.output<typeof pollOptions>;


export const pollTrigger = defineTrigger({
  name: 'poll',
  summary: 'Call a connector on an interval; each new record is one message, the checkpoint committed with it.',
  options: pollOptions,
  create(options, deps) {
    const where = `${deps.flow}.trigger.poll`;
    const connector = deps.connector(options.connector);
    const request = compileStepRequest(connector, options, Object.keys(pollOptions.shape), POLL_USE, where, deps.baseDir);
    if (options.paginate !== undefined) checkPaginateFits(options.paginate, connector);
    // Without paginate, the answer is one page.
    const paginator = compilePaginate(options.paginate ?? paginateOptions.parse({ link: 'next', maxPages: 1, items: options.items }));
    const single = options.paginate === undefined;
    const checkpointOf = options.checkpoint === undefined ? undefined : compileExpression(options.checkpoint);
    const keyOf = compileExpression(options.key);
    const checkpointKey = `poll:${deps.flow}`;

    const status = { runs: 0, records: 0, lastRunAt: undefined as number | undefined, lastError: undefined as string | undefined, checkpoint: undefined as Json | undefined };
    const stopping = new AbortController();
    let loop: Promise<void> | undefined;

    /**
     * One run: every page, its records ingested, the checkpoint with the last
     * page. Skipped when another node ran less than `every` ago: resolves then
     * with how long to wait.
     */
    async function run(ingest: Ingest, signal: AbortSignal): Promise<number | undefined> {
      const saved = savedCheckpoint(await deps.store.checkpoints.get(checkpointKey));
      const sinceMs = saved === undefined ? Infinity : deps.clock.now() - saved.ranAt;
      if (sinceMs < options.every) return options.every - sinceMs;
      const traced = startTriggerRun(deps.worker, deps.flow, 'poll');
      try {
        const records = await read(ingest, signal, saved, traced);
        traced?.end(records);
      } catch (e) {
        traced?.end(0, e);
        throw e;
      }
      return undefined;
    }

    /** Reads every page from the saved checkpoint, stores the records, and returns how many there were. */
    async function read(ingest: Ingest, signal: AbortSignal, saved: SavedCheckpoint | undefined, traced: TriggerRun | undefined): Promise<number> {
      let records = 0;
      const from: Json = saved?.checkpoint ?? options.initial;
      const bindings: Message & { checkpoint: Json } = { id: checkpointKey, flow: deps.flow, attempt: 0, idempotencyKey: checkpointKey, body: {}, headers: {}, meta: {}, checkpoint: from };
      const rendered = await request.render(bindings);
      const send = async (page: PageRequest) => {
        // A relay page is the same document with its cursor in the variables; a body the type builds (GraphQL) is sent.
        const req = page.after === undefined ? rendered : await request.render(bindings, page);
        const body = req.body === undefined ? {} : { body: req.body.payload, headers: { 'content-type': req.body.contentType } };
        const res = await connector.call({ method: req.method, path: page.path, headers: { ...body.headers, ...req.headers }, body: body.body }, traced ? { signal, scope: traced.scope } : { signal });
        const cls = connector.classify(res);
        if (cls !== 'ok') throw errorForResponse(connector.name, res, cls, deps.clock.now(), connector.explain(res));
        return res;
      };
      let max = from;
      // One page is held back, so that the last one carries the checkpoint in its transaction.
      let held: NewMessage[] | undefined;
      const pages = single ? firstPageOnly(paginator.pages(rendered.path, send, connector)) : paginator.pages(rendered.path, send, connector);
      for await (const page of pages) {
        if (signal.aborted) return records; // the lock is lost or the engine stops: the next run starts from the checkpoint
        if (held !== undefined) await ingest(held, { onKeyReuse: 'keep-first' });
        held = [];
        for (const record of page.records) {
          const cv = checkpointOf === undefined ? undefined : ((await checkpointOf.evaluate(record, { headers: {}, meta: {} })) as Json | undefined);
          if (cv !== undefined && cv !== null && greater(cv, max)) max = cv;
          const id = await keyOf.evaluate(record, { headers: {}, meta: {} });
          if ((typeof id !== 'string' || id === '') && typeof id !== 'number') {
            throw errors.PAGE_INVALID.create([connector.name, page.number, `key ${options.key} gave ${id === undefined ? 'nothing' : JSON.stringify(id)} for a record; each record needs an id`]);
          }
          const dedupeKey = cv === undefined || cv === null ? String(id) : `${String(id)}@${String(cv)}`;
          held.push({ flow: deps.flow, body: record, dedupeKey, meta: { poll: { page: page.number, checkpoint: from } }, ...(traced?.traceparent ? { traceparent: traced.traceparent } : {}) });
        }
        if (page.truncated) deps.logger.warn({ flow: deps.flow, maxPages: page.number }, 'poll: stopped at maxPages with more pages to read; the next run goes on from the checkpoint');
        status.records += page.records.length;
        records += page.records.length;
      }
      if (signal.aborted) return records;
      await ingest(held ?? [], { onKeyReuse: 'keep-first', checkpoint: { key: checkpointKey, value: { checkpoint: max, ranAt: deps.clock.now() } } });
      status.checkpoint = max;
      return records;
    }

    return {
      flow: deps.flow,
      type: 'poll',
      async start(ingest, signal) {
        const stop = AbortSignal.any([signal, stopping.signal]);
        loop = (async () => {
          while (!stop.aborted) {
            let waitMs = options.every;
            try {
              status.lastRunAt = deps.clock.now();
              let early: number | undefined;
              const ran = await deps.store.exclusive(checkpointKey, async (lockLost) => {
                early = await run(ingest, AbortSignal.any([stop, lockLost]));
              });
              if (ran && early === undefined) status.runs++;
              // Another node ran lately: wait out its interval. Another node runs now (or died holding the lock,
              // which lasts until its lease runs out): look again soon, so that a crashed holder is taken over.
              if (early !== undefined) waitMs = early;
              else if (!ran) waitMs = Math.min(options.every, LOCK_BUSY_RETRY_MS);
              status.lastError = undefined;
            } catch (e) {
              if (stop.aborted) break;
              status.lastError = isJunctionError(e) ? `${e.code}: ${e.message}` : String(e);
              // A paused answer (open circuit, rate limit) says when to come back.
              if (isJunctionError(e) && e.family === 'paused' && e.retryAfterMs !== undefined) waitMs = Math.max(waitMs, e.retryAfterMs);
              deps.logger.warn({ flow: deps.flow, err: status.lastError }, 'poll: run failed; the checkpoint is unmoved and the next run reads again');
            }
            await sleep(waitMs, stop);
          }
        })();
      },
      async stop() {
        stopping.abort();
        await loop;
      },
      describe: () => ({ connector: options.connector, everyMs: options.every, ...status }),
    };
  },
});

/** How soon a node whose lock was held elsewhere looks again, at most. */
const LOCK_BUSY_RETRY_MS = 5000;

/** The stored checkpoint: the value to resume after, and when the run that saved it ended (ms). */
interface SavedCheckpoint {
  checkpoint: Json;
  ranAt: number;
}

function savedCheckpoint(v: Json | undefined): SavedCheckpoint | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || typeof v.ranAt !== 'number' || !('checkpoint' in v)) return undefined;
  return { checkpoint: v.checkpoint as Json, ranAt: v.ranAt };
}

/** Yields only the first page: a poll without paginate reads one answer. */
async function* firstPageOnly(pages: AsyncGenerator<Page>): AsyncGenerator<Page> {
  for await (const page of pages) {
    yield { ...page, truncated: false };
    return;
  }
}

/** Order of checkpoint values: numbers by value, anything else by its text (ISO timestamps sort as text). */
function greater(a: Json, b: Json): boolean {
  if (typeof a === 'number' && typeof b === 'number') return a > b;
  return String(a) > String(b);
}
