/**
 * @module steps/convert/describe
 * Short, bounded descriptions of values for error messages, so that a dead
 * letter's reason says what was wrong without copying the payload into it.
 * `describeValue` lives in core (templates describe what a part gave with it too).
 */
export { describeValue } from '../../core/describe-value.ts';

const MAX_TEXT = 40;

/** A text value quoted and cut to a readable length. */
export function quoteExcerpt(text: string): string {
  return JSON.stringify(text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}…` : text);
}
