/**
 * @module examples/lib/stop-on-signals
 * How every example's start script stops. `npm run` starts it with `exec`, so
 * npm's forwarded signal reaches it (no shell in between that would die and
 * leave it running); a Ctrl-C in a terminal thus arrives twice, from the
 * terminal and from npm, and a repeat is not a request to hurry: the engine's
 * drain is bounded by worker.drainMs anyway.
 */

/** On the first SIGINT or SIGTERM, runs `stops` one after the other (the engine first, then the demo servers). */
export function stopOnSignals(...stops: (() => Promise<unknown>)[]): void {
  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    for (const s of stops) await s();
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}
