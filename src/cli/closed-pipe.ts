/**
 * @module cli/closed-pipe
 * `junction dlq list --json | head -1`: once head has its line it exits, and
 * the next write to our stdout fails with EPIPE. That is the reader's choice,
 * not a failure: the rest of the output is dropped, without a stack trace,
 * and the command ends as it would have (exit 0 when its work succeeded).
 */

const guarded = new WeakSet<NodeJS.WriteStream>();

/** Makes EPIPE on `stream` quiet; any other stream error is still thrown. Once per stream, however often called. */
export function quietOnClosedPipe(stream: NodeJS.WriteStream): void {
  if (guarded.has(stream)) return;
  guarded.add(stream);
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') return;
    throw e;
  });
}
