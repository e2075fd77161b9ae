/**
 * @module triggers/ingest
 * What every trigger hands its messages to. `ingest` resolves only once the
 * messages are durable, so a trigger may acknowledge them then and not before.
 */
import type { NewMessage } from '../core/message.ts';
import type { EnqueueResult } from '../store/store.ts';

export type Ingest = (batch: NewMessage[]) => Promise<EnqueueResult[]>;

/** Runs the flow's ingress steps on a message before it is stored; rejects to refuse it. */
export type IngressCheck = (msg: NewMessage) => Promise<void>;
