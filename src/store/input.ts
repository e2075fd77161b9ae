/**
 * @module store/input
 * What every store checks of what it is given, the same way, so that the two
 * stores refuse the same input with the same words: a new message's fields,
 * and a dead-letter selector.
 */
import { errors } from '../core/errors.ts';
import type { NewMessage } from '../core/message.ts';
import type { DeadLetterSelector } from './store.ts';

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

/** The flow a selector without ids names; `{ all: true }` is every flow, bound as NULL. */
export function flowOf(sel: Exclude<DeadLetterSelector, { ids: string[] }>): string | null {
  if ('flow' in sel) return sel.flow;
  if (sel.all === true) return null;
  throw errors.INPUT_INVALID.create(['a dead-letter selector needs ids, flow or all: true']);
}

/** The ids of a selector, each once. */
export function unique(ids: string[]): string[] {
  return [...new Set(ids)];
}
