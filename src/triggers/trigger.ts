/**
 * @module triggers/trigger
 * What every trigger hands its messages to. `ingest` resolves only once the
 * messages are durable, so a trigger may acknowledge them then and not before.
 */
import type { NewMessage } from '../core/message.ts';
import type { EnqueueResult } from '../store/store.ts';

export type Ingest = (batch: NewMessage[]) => Promise<EnqueueResult[]>;
