/**
 * @module observability/alert-rule
 * One rule's state machine, pure: a condition read at `now` in, the rule's next
 * state and the notice to send (if any) out. Kept apart from the reading of
 * figures and the sending, so that firing once, resolving and the cool-down
 * are decided in one place and tested with a hand-driven clock.
 *
 * The state is plain JSON: it is stored with the notice it produced (in the
 * same transaction), so a restart or another node taking over the evaluation
 * neither fires a rule twice nor forgets that it is firing.
 */

/** What the store keeps of a rule between two evaluations. */
export interface RuleState {
  /** True between a firing and its resolve. */
  firing: boolean;
  /** When the rule last fired (ms since the epoch), or null if never: the cool-down counts from here. */
  firedAt: number | null;
  /** Dead-letter rules: [at, count] samples over the window, oldest first. */
  samples?: [number, number][];
}

export const INITIAL_STATE: RuleState = { firing: false, firedAt: null };

/** A change to tell the receiver about. */
export interface Transition {
  status: 'firing' | 'resolved';
  /** When the firing began; a resolve carries the firing's. */
  since: number;
}

/**
 * The rule's next state given whether its condition holds at `now`.
 *
 * - Not firing, condition true, and `coolDownMs` past since the last firing
 *   (or never fired): fires.
 * - Not firing, condition true, still cooling down: nothing; it fires at the
 *   first evaluation after the cool-down if the condition still holds.
 * - Firing, condition true: nothing more is sent.
 * - Firing, condition false: resolves.
 */
export function nextState(state: RuleState, holds: boolean, now: number, coolDownMs: number): { state: RuleState; transition?: Transition } {
  if (state.firing) {
    if (holds) return { state };
    return { state: { ...state, firing: false }, transition: { status: 'resolved', since: state.firedAt ?? now } };
  }
  if (!holds) return { state };
  if (state.firedAt !== null && now - state.firedAt < coolDownMs) return { state };
  return { state: { ...state, firing: true, firedAt: now }, transition: { status: 'firing', since: now } };
}

/** Samples kept per dead-letter rule: enough to see growth, bounded whatever the window and the interval. */
const MAX_SAMPLES = 120;

/**
 * Adds a dead-letter count to the samples and drops those older than the window.
 * Samples closer together than window / MAX_SAMPLES replace the newest one's
 * count only if lower, so the minimum over the window is kept.
 */
export function addSample(samples: readonly [number, number][] | undefined, at: number, count: number, windowMs: number): [number, number][] {
  const kept = (samples ?? []).filter(([t]) => t > at - windowMs).map(([t, c]): [number, number] => [t, c]);
  const last = kept.at(-1);
  if (last !== undefined && at - last[0] < windowMs / MAX_SAMPLES) {
    if (count < last[1]) last[1] = count;
    return kept;
  }
  kept.push([at, count]);
  return kept;
}

/** How much `count` is above the lowest count sampled in the window (0 with no samples). */
export function growth(samples: readonly [number, number][], count: number): number {
  if (samples.length === 0) return 0;
  return count - Math.min(...samples.map(([, c]) => c));
}
