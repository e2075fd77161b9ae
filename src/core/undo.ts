/**
 * @module core/undo
 * What a start-up has opened so far, to be closed again when a later step of it
 * fails: the caller sees the error that stopped it, and nothing stays open behind
 * it (no port bound, no store connection, no timer) to keep the process up or to
 * stand in the way of a second try.
 */
export class Undo {
  readonly #closers: (() => unknown)[] = [];
  #report: (e: unknown) => void = () => undefined;

  /** Registers how to close what was just opened. */
  add(close: () => unknown): void {
    this.#closers.push(close);
  }

  /** Where a closer's failure is told (a log), once there is somewhere to tell it. */
  reportTo(report: (e: unknown) => void): void {
    this.#report = report;
  }

  /**
   * Closes everything registered, last opened first. A closer that fails does not
   * stop the others, and is only reported: the error that made the start-up fail
   * is the one its caller needs.
   */
  async run(): Promise<void> {
    for (const close of this.#closers.splice(0).reverse()) {
      try {
        await close();
      } catch (e) {
        this.#report(e);
      }
    }
  }
}
