/**
 * @module cli/send/batches
 * Stores the records `junction send` reads, in batches (one transaction each),
 * and says for each record what became of it: stored, a duplicate of a message
 * already there (its dedupe key was seen), or refused with its line. A record
 * the store refuses (its key reused for another body) must not cost the other
 * records of its batch: that batch is stored again one record at a time.
 */
import { basename } from 'node:path';
import { coerceError, errors, isJunctionError } from '../../core/errors.ts';
import type { Expression } from '../../core/expression.ts';
import type { NewMessage } from '../../core/message.ts';
import type { Store } from '../../store/store.ts';
import { keyFromExpression } from '../../triggers/dedupe-key.ts';
import type { SendCheck } from './ingress.ts';
import type { SourceRecord } from './records.ts';

export interface Refusal {
  line: number;
  /** `JNC_…: message`, or what the parser said. */
  reason: string;
}

export interface SendTally {
  /** Records read, refused ones included. */
  read: number;
  /** New messages stored. */
  sent: number;
  /** Records whose dedupe key was already stored with the same body: nothing added. */
  duplicates: number;
  refused: number;
}

export interface SendInput {
  store: Store;
  flow: string;
  records: AsyncIterable<SourceRecord>;
  /** Named in each message's meta (`source`); `-` is stdin. */
  file: string;
  batchSize: number;
  key?: Expression | undefined;
  check?: SendCheck | undefined;
  /** Called for each refused record, as it is found. */
  onRefused(r: Refusal): void;
  /** Called after each batch commits. */
  onProgress(t: SendTally): void;
  now?: () => number;
}

/** Codes the store gives one record of a batch, refusing the whole batch: stored again one by one. */
const RECORD_REFUSALS: ReadonlySet<string> = new Set([errors.IDEMPOTENCY_KEY_REUSED.code, errors.INPUT_INVALID.code]);

export async function sendRecords(input: SendInput): Promise<SendTally> {
  const { store, flow } = input;
  const now = input.now ?? Date.now;
  const source = input.file === '-' ? 'stdin' : basename(input.file);
  const tally: SendTally = { read: 0, sent: 0, duplicates: 0, refused: 0 };
  let batch: NewMessage[] = [];
  let lines: number[] = [];

  const refuse = (line: number, reason: string): void => {
    tally.refused++;
    input.onRefused({ line, reason });
  };
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const [msgs, at] = [batch, lines];
    batch = [];
    lines = [];
    try {
      count(await store.enqueue(msgs));
    } catch (e) {
      if (!isJunctionError(e) || !RECORD_REFUSALS.has(e.code)) throw e;
      for (const [i, m] of msgs.entries()) {
        try {
          count(await store.enqueue([m]));
        } catch (one) {
          if (!isJunctionError(one) || !RECORD_REFUSALS.has(one.code)) throw one;
          refuse(at[i]!, `${one.code}: ${one.message}`);
        }
      }
    }
    input.onProgress({ ...tally });
  };
  const count = (results: readonly { duplicate: boolean }[]): void => {
    for (const r of results) {
      if (r.duplicate) tally.duplicates++;
      else tally.sent++;
    }
  };

  for await (const rec of input.records) {
    tally.read++;
    if ('error' in rec) {
      refuse(rec.line, rec.error);
      continue;
    }
    const msg: NewMessage = {
      flow,
      body: rec.body,
      headers: {},
      meta: { receivedAt: new Date(now()).toISOString(), via: 'junction send', source, line: rec.line },
    };
    try {
      // The flow's own checks first: a body they refuse is the mistake to report, whatever its key.
      await input.check?.(msg);
      if (input.key) msg.dedupeKey = await keyFromExpression(input.key, rec.body, {});
    } catch (e) {
      const err = coerceError(e);
      refuse(rec.line, `${err.code}: ${err.message}`);
      continue;
    }
    batch.push(msg);
    lines.push(rec.line);
    if (batch.length >= input.batchSize) await flush();
  }
  await flush();
  return tally;
}
