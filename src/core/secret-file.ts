/**
 * @module core/secret-file
 * A secret written `${file:path}` follows its file: when the file is rewritten
 * (a rotated API key, a renewed token, a Kubernetes secret volume swapped), the
 * next {@link Secret.reveal} returns the new value, with no restart.
 *
 * `reveal()` stays synchronous and cheap: the file is stat'ed at most once per
 * `checkEveryMs` (1 s), and read again only when its inode, size, mtime or ctime
 * moved. Polling a stat rather than `fs.watch` works on every file system and
 * follows the symlink swaps that secret volumes use, with nothing to close.
 *
 * Only a string that is one whole `${file:path}` reference follows its file; in
 * `Bearer ${file:token}` the file is read once, at start-up.
 */
import { readFileSync, statSync } from 'node:fs';
import { Secret, type SecretSource } from './secret.ts';

/** Reads a secret file as `${file:}` does: one trailing newline (what editors and `echo` add) is never part of the secret. */
export function readSecretFile(path: string): string {
  return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
}

export interface SecretFileOptions {
  /** How often, at most, the file is checked for a change. */
  checkEveryMs?: number;
}

/** The value of one file, read again when the file changes. */
export class SecretFile implements SecretSource {
  readonly path: string;
  readonly #checkEveryMs: number;
  #value: string;
  // Unknown at first: the file may have changed between the config's read and now, so the first check reads it.
  #stamp: string | undefined;
  #checkedAt: number;
  #revision = 0;

  /** @param value the file's content as read at start-up */
  constructor(path: string, value: string, opts: SecretFileOptions = {}) {
    this.path = path;
    this.#value = value;
    this.#checkEveryMs = opts.checkEveryMs ?? 1000;
    this.#checkedAt = performance.now();
  }

  read(): string {
    this.#refresh();
    return this.#value;
  }

  revision(): number {
    this.#refresh();
    return this.#revision;
  }

  #refresh(): void {
    const now = performance.now();
    if (now - this.#checkedAt < this.#checkEveryMs) return;
    this.#checkedAt = now;
    const before = stampOf(this.path);
    // A file that is gone or unreadable for a moment (mid-rotation) keeps the last value in force.
    if (before === undefined || before === this.#stamp) return;
    let value: string;
    try {
      value = readSecretFile(this.path);
    } catch {
      return;
    }
    // Caught mid-write (truncated, or changed while read): look again at the next check.
    if (value === '' || stampOf(this.path) !== before) return;
    this.#stamp = before;
    if (value !== this.#value) {
      this.#value = value;
      this.#revision += 1;
    }
  }
}

function stampOf(path: string): string | undefined {
  try {
    const s = statSync(path, { bigint: true });
    return `${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
  } catch {
    return undefined;
  }
}

/** A string that was one whole `${file:…}` reference, and the absolute path of its file. */
export interface FileValue {
  value: string;
  file: string;
}

// Set only while a config is being parsed: a zod transform is told a value, not
// where it came from, so the secret field looks its value up here.
let parsing: ReadonlyMap<string, string> | undefined;

/**
 * Runs `parse` (a synchronous schema parse) so that every secret field whose
 * value was read from a file follows that file. A value that two different
 * files hold is ambiguous and stays fixed.
 */
export function withSecretFiles<T>(files: readonly FileValue[], parse: () => T): T {
  const byValue = new Map<string, string>();
  const ambiguous = new Set<string>();
  for (const { value, file } of files) {
    const seen = byValue.get(value);
    if (seen !== undefined && seen !== file) ambiguous.add(value);
    byValue.set(value, file);
  }
  for (const value of ambiguous) byValue.delete(value);
  const outer = parsing;
  parsing = byValue;
  try {
    return parse();
  } finally {
    parsing = outer;
  }
}

/** The Secret for a config value: one that follows its file when the value came from `${file:…}`. */
export function secretFor(value: string): Secret {
  const file = parsing?.get(value);
  return new Secret(file === undefined ? value : new SecretFile(file, value));
}
