/**
 * @module cli/table
 * Plain-text tables for the CLI: columns padded to their widest cell (at most
 * 60 characters, longer cells cut), the last column left as is.
 */

/** Writes `head` and `rows` as a table to `out` (default stdout). */
export function printTable(head: string[], rows: string[][], out: NodeJS.WritableStream = process.stdout): void {
  const widths = head.map((h, i) => Math.min(60, Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length))));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.slice(0, widths[i]).padEnd(widths[i] ?? 0))).join('  ');
  out.write(`${[line(head), ...rows.map(line)].join('\n')}\n`);
}
