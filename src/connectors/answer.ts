/**
 * @module connectors/answer
 * How an answer becomes a message body when its protocol has no reading of its
 * own (REST): JSON when the answer says it is JSON, else text under its content
 * type. A protocol with its own reading (SOAP's envelope, GraphQL's `data`)
 * brings it in its connector type's `read`.
 */
import { CONTENT_TYPES, mediaKind } from '../core/media.ts';
import { errors } from '../core/errors.ts';
import type { OutboundResponse } from '../core/call.ts';
import type { Answer, Json } from '../core/message.ts';
import { snapshotResponse } from './response-error.ts';

/**
 * JSON when the answer says it is JSON (an empty one is null), else text under
 * the answer's content type. JSON that does not parse is JNC_HTTP_MALFORMED: the
 * same answer would come again, so it is not retried.
 */
export function readJsonOrText(connector: string, res: OutboundResponse): Answer {
  const contentType = res.headers['content-type'];
  const text = res.body.toString('utf8');
  const json = mediaKind(contentType) === 'json';
  // No content type and no body (204): nothing, which is JSON null rather than an empty text.
  if (text === '' && (json || contentType === undefined)) return { body: null, contentType: CONTENT_TYPES.json };
  if (!json) return { body: text, contentType: contentType ?? CONTENT_TYPES.text };
  try {
    return { body: JSON.parse(text) as Json, contentType: CONTENT_TYPES.json };
  } catch (e) {
    throw errors.HTTP_MALFORMED.create([connector, res.status, (e as Error).message], { cause: e, status: res.status, response: snapshotResponse(res) });
  }
}
