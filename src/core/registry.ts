/**
 * @module core/registry
 * One registry per extension point (connector type, trigger, step, inbound
 * auth): the config schema, `junction schema`, `docs/config.md` and the engine
 * all read the same one, so that adding a component is its file plus one
 * `register` line.
 */

export class Registry<D extends { readonly name: string }> {
  readonly #kind: string;
  readonly #items = new Map<string, D>();
  #version = 0;

  /** @param kind what the entries are, for error messages: "connector type". */
  constructor(kind: string) {
    this.#kind = kind;
  }

  /** Adds `def` under its name; a name taken already throws (a second registration is a mistake, not an override). */
  register<T extends D>(def: T): T {
    if (this.#items.has(def.name)) throw new Error(`${this.#kind} "${def.name}" is registered already`);
    this.#items.set(def.name, def);
    this.#version++;
    return def;
  }

  get(name: string): D | undefined {
    return this.#items.get(name);
  }

  names(): string[] {
    return [...this.#items.keys()];
  }

  values(): D[] {
    return [...this.#items.values()];
  }

  /** Grows with every registration: what is built from the entries is rebuilt when it changes. */
  get version(): number {
    return this.#version;
  }
}
