/**
 * @module core/fs-reason
 * Why a file could not be read, in words, for every message that names a file
 * Junction failed to open (the config, a `${file:…}` secret, a JSON Schema).
 * One mapping, so the same failure reads the same wherever it is reported.
 */
import { getSystemErrorMessage } from 'node:util';

const REASONS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'it is a directory',
  ENOTDIR: 'a part of the path is not a directory',
};

/**
 * A short reason for a failed read, without the path (the caller names the file
 * its own way): "no such file", "permission denied", "it is a directory"… Another
 * system error gives the system's words ("too many open files"); anything else its message.
 */
export function fsReason(e: unknown): string {
  const { code, errno } = (typeof e === 'object' && e !== null ? e : {}) as { code?: unknown; errno?: unknown };
  if (typeof code === 'string' && Object.hasOwn(REASONS, code)) return REASONS[code]!;
  if (typeof errno === 'number') return getSystemErrorMessage(errno);
  return e instanceof Error ? e.message : String(e);
}
