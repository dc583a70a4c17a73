// What steps hand to each other, typed: a step `provides` facts, a step that
// `needs` one runs after its provider (the graph's edges), and reads it with
// `ctx.facts.get(key)` as the key's type — no casts at the point of use.

/** The name and, at compile time only, the type of one fact. */
export interface FactKey<T> {
  readonly name: string
  /** Never set: carries T for the type checker. */
  readonly type?: T
}

export function factKey<T>(name: string): FactKey<T> {
  return {name}
}

/** The facts of one run. Keys are compared by name, so two keys of the same name are one fact. */
export class Facts {
  readonly #values = new Map<string, unknown>()

  get<T>(key: FactKey<T>): T | undefined {
    // The only place a fact's type is asserted: set() accepted only a T under this name.
    return this.#values.get(key.name) as T | undefined
  }

  set<T>(key: FactKey<T>, value: T): void {
    this.#values.set(key.name, value)
  }

  has(key: FactKey<unknown>): boolean {
    return this.#values.has(key.name)
  }
}
