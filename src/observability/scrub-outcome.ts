/**
 * @module observability/scrub-outcome
 * Cuts the config's secrets out of an outcome before it leaves the worker: to the
 * store (a dead letter, the attempt history) or to a caller waiting on `respond`.
 * A receiver may echo the credential it was sent (a 401 body saying "invalid key
 * sk_live_…", a `WWW-Authenticate` header quoting it, a parse error quoting that
 * body); none of it may be kept or shown.
 */
import { causeChain, withMessage, type JunctionError } from '../core/errors.ts';
import type { Outcome } from '../core/message.ts';
import { noScrub, scrubDeep, type Scrub } from './redact.ts';

/** Deep enough for any chain Junction builds; a cycle stops here too. */
const MAX_CAUSES = 8;

export function scrubOutcome(outcome: Outcome, scrub: Scrub): Outcome {
  if (outcome.kind === 'ack' || scrub === noScrub) return outcome;
  const error = scrubError(outcome.error, scrub);
  const lastResponse = scrubDeep(outcome.lastResponse, scrub);
  if (error === outcome.error && lastResponse === outcome.lastResponse) return outcome;
  return { ...outcome, error, lastResponse };
}

/** The same error with the secrets cut out of its message, causes, details, response and headers; itself when there were none. */
export function scrubError(e: JunctionError, scrub: Scrub): JunctionError {
  const response = scrubDeep(e.response, scrub);
  const details = scrubDeep(e.details, scrub);
  const headers = scrubDeep(e.headers, scrub);
  const clean = causeChain(e, MAX_CAUSES).every((s) => scrub(s) === s);
  if (clean && response === e.response && details === e.details && headers === e.headers) return e;
  return withMessage(e, scrub(e.message), { cause: scrubCause(e.cause, scrub, MAX_CAUSES), details, response, headers });
}

/** Causes become plain errors that keep their message (scrubbed) and code: all a dead letter's reason shows. */
function scrubCause(c: unknown, scrub: Scrub, depth: number): unknown {
  if (c === undefined || c === null) return undefined;
  if (!(c instanceof Error)) return scrub(String(c));
  const next = depth > 1 ? scrubCause(c.cause, scrub, depth - 1) : undefined;
  const copy = new Error(scrub(c.message), next === undefined ? undefined : { cause: next });
  const code = (c as { code?: unknown }).code;
  if (typeof code === 'string') Object.assign(copy, { code });
  return copy;
}
