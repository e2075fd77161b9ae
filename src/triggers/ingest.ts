/**
 * @module triggers/ingest
 * What every trigger hands its messages to. `ingest` resolves only once the
 * messages are durable, so a trigger may acknowledge them then and not before.
 */
import type { NewMessage } from '../core/message.ts';
import type { EnqueueOptions, EnqueueResult } from '../store/store.ts';

/** `opts` as the store's enqueue takes them: a poll's checkpoint commits with its records. */
export type Ingest = (batch: NewMessage[], opts?: EnqueueOptions) => Promise<EnqueueResult[]>;

/** Runs the flow's ingress steps on a message before it is stored; rejects to refuse it. */
export type IngressCheck = (msg: NewMessage) => Promise<void>;
