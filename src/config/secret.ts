/**
 * @module config/secret
 * A value pulled in with `${env:…}` or `${file:…}` into a field declared secret.
 * It prints as `[redacted]` in JSON, logs and `util.inspect`, so that it cannot leak
 * by accident; code that needs the value calls `reveal()`.
 */
import { inspect } from 'node:util';

export const REDACTED = '[redacted]';

export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
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
