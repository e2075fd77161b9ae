/**
 * @module core/secret
 * A value pulled in with `${env:…}` or `${file:…}` into a field declared secret.
 * It prints as `[redacted]` in JSON, logs and `util.inspect`, so that it cannot leak
 * by accident; code that needs the value calls `reveal()`, each time it needs it,
 * so that a secret that follows its file (core/secret-file) is always current.
 */
import { inspect } from 'node:util';

export const REDACTED = '[redacted]';

/** Where a secret's value comes from when it can change while Junction runs (a file that is rotated). */
export interface SecretSource {
  /** The current value; synchronous and cheap, since it is called per use. */
  read(): string;
  /** A number that changes whenever `read()` would return a different value. */
  revision(): number;
}

export class Secret {
  readonly #value: string | SecretSource;

  constructor(value: string | SecretSource) {
    this.#value = value;
  }

  reveal(): string {
    return typeof this.#value === 'string' ? this.#value : this.#value.read();
  }

  /**
   * Changes whenever `reveal()` would return a new value (always 0 for a fixed
   * one), so that code holding something derived from the secret, such as a
   * hash, derives it again only when it must.
   */
  revision(): number {
    return typeof this.#value === 'string' ? 0 : this.#value.revision();
  }

  toJSON(): string {
    return REDACTED;
  }

  toString(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}

export function isSecret(v: unknown): v is Secret {
  return v instanceof Secret;
}
