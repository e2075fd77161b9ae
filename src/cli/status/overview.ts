/**
 * @module cli/status/overview
 * What `junction status` reads from the store, per flow: messages by state,
 * how long the oldest queued one has waited, and its dead letters. The store
 * is shared by every node, so these figures are the whole system's.
 */
import type { QueueStats, Store } from '../../store/store.ts';

export interface FlowOverview {
  name: string;
  /** Messages by state; `dead` counts its dead letters. */
  messages: QueueStats;
  /** How long the oldest due message has waited for a worker (the store's `oldestDue`); undefined with none due. */
  oldestQueuedMs: number | undefined;
}

/** The flows in `names` (the configured ones), in that order. */
export async function storeOverview(store: Store, names: readonly string[], now: number): Promise<FlowOverview[]> {
  const due = await store.oldestDue();
  return Promise.all(
    names.map(async (name) => {
      const messages = await store.stats(name);
      const oldest = due[name];
      return { name, messages, oldestQueuedMs: oldest === undefined ? undefined : Math.max(0, now - oldest) };
    }),
  );
}

/** `45s`, `4m 12s`, `3h 5m`, `2d 4h`: two units at most, enough to see what waits too long. */
export function formatAge(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}
