/**
 * @module test/helpers/clock
 * A clock that moves only when a test moves it, so time-based behaviour is tested without sleeping.
 */
import type { Clock } from '../../src/core/clock.ts';

/** 2025-01-01T00:00:00Z: a fixed, readable start. */
export const START_MS = Date.UTC(2025, 0, 1);

export class ManualClock implements Clock {
  #nowMs: number;

  constructor(startMs: number = START_MS) {
    this.#nowMs = startMs;
  }

  now(): number {
    return this.#nowMs;
  }

  /** Moves time forward (never back) by `ms`. */
  advance(ms: number): void {
    if (ms < 0) throw new RangeError(`advance(${ms}): time only moves forward`);
    this.#nowMs += ms;
  }

  /** Jumps to an absolute time, in either direction. */
  set(ms: number): void {
    this.#nowMs = ms;
  }
}
