/**
 * @module store/input
 * What every store checks of what it is given, the same way, so that the two
 * stores refuse the same input with the same words: a new message's fields,
 * and a dead-letter selector.
 */
import { errors } from '../core/errors.ts';
import type { NewMessage } from '../core/message.ts';
import { filterOf } from './dead-letter-filter.ts';
import type { DeadLetterFilter, DeadLetterSelector } from './store.ts';

/** Refuses a message whose flow, dedupe key, runAt or startStep cannot be stored; `index` names it in the batch. */
export function checkNewMessage(m: NewMessage, index: number): void {
  if (typeof m.flow !== 'string' || m.flow === '') throw errors.INPUT_INVALID.create([`message ${index}: flow must be a non-empty string`]);
  if (m.dedupeKey !== undefined && (typeof m.dedupeKey !== 'string' || m.dedupeKey === '')) {
    throw errors.INPUT_IDEMPOTENCY_KEY.create([`message ${index}: the dedupe key must be a non-empty string`]);
  }
  if (m.runAt !== undefined && !Number.isFinite(m.runAt)) throw errors.INPUT_INVALID.create([`message ${index}: runAt must be a finite number`]);
  if (m.startStep !== undefined && !(Number.isInteger(m.startStep) && m.startStep >= 0)) {
    throw errors.INPUT_INVALID.create([`message ${index}: startStep must be a whole number ≥ 0`]);
  }
}

/** The filter a selector without ids stands for: `{ flow }` is that flow's, `{ all: true }` the empty one. */
export function filterOfSelector(sel: Exclude<DeadLetterSelector, { ids: string[] }>): DeadLetterFilter {
  if ('filter' in sel && typeof sel.filter === 'object' && sel.filter !== null) return filterOf(sel.filter);
  if ('flow' in sel) return { flow: sel.flow };
  if ('all' in sel && sel.all === true) return {};
  throw errors.INPUT_INVALID.create(['a dead-letter selector needs ids, flow, filter or all: true']);
}

/** The ids of a selector, each once. */
export function unique(ids: string[]): string[] {
  return [...new Set(ids)];
}
