/**
 * @module core/suggest
 * "Did you mean …?" for a mistyped key or name: the closest candidate by edit
 * distance, when it is close enough to be a typo rather than a different word.
 */

export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = distance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  if (best === undefined) return undefined;
  // Up to two edits in five characters ("retires" → "retry"); beyond one edit a
  // typo keeps its first letter, which keeps "erp" from suggesting "crm".
  const close = bestDistance <= Math.max(1, Math.ceil(word.length * 0.4));
  const sameStart = best[0]?.toLowerCase() === word[0]?.toLowerCase();
  return close && (bestDistance <= 1 || sameStart) ? best : undefined;
}

/** Levenshtein distance, one row at a time. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row.push(Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost));
    }
    prev = row;
  }
  return prev[b.length]!;
}
