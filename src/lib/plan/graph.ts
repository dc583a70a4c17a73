// The steps of a run as a dependency graph, derived from what each step needs
// and provides. `up` walks it forward (a step starts when the steps providing
// its needs are done), cleanup backward (a step's resources go after those of
// every step that needs it), `--dry-run` prints its order, and a capability
// command runs a slice: its steps and, transitively, the steps they need.
import {MissingSettings} from '../errors.ts'
import type {AnyStep, StackSettings} from './types.ts'

export class StepGraph<S extends AnyStep = AnyStep> {
  /** The steps in registry order, which is also a topological order. */
  readonly steps: readonly S[]
  readonly #needs = new Map<string, S[]>()
  readonly #neededBy = new Map<string, S[]>()

  constructor(steps: readonly S[]) {
    this.steps = steps
    const providerOf = new Map<string, S>()
    for (const step of steps) {
      if (this.#needs.has(step.id)) throw new Error(`step ${step.id} is in the graph twice`)
      this.#needs.set(step.id, [])
      this.#neededBy.set(step.id, [])
      for (const fact of step.provides ?? []) {
        const other = providerOf.get(fact.name)
        if (other) throw new Error(`fact ${fact.name} is provided by both ${other.id} and ${step.id}`)
        providerOf.set(fact.name, step)
      }
    }
    for (const step of steps) {
      for (const fact of step.needs ?? []) {
        const provider = providerOf.get(fact.name)
        // A provider outside this run: the step finds the fact itself.
        if (!provider || provider === step) continue
        const needs = this.#needs.get(step.id) ?? []
        if (!needs.includes(provider)) needs.push(provider)
        this.#neededBy.get(provider.id)?.push(step)
      }
    }
    this.#checkAcyclic()
  }

  /** The steps that must be done before this one starts. */
  needsOf(step: AnyStep): readonly S[] {
    return this.#needs.get(step.id) ?? []
  }

  /** The steps that start only after this one. */
  neededBy(step: AnyStep): readonly S[] {
    return this.#neededBy.get(step.id) ?? []
  }

  get(id: string): S | undefined {
    return this.steps.find((s) => s.id === id)
  }

  /**
   * The given steps and the steps providing what they need, in registry order:
   * what a capability command runs (its steps) and reads first (the others).
   * Those providers find what they need in turn by themselves (ledger, tags).
   */
  slice(...ids: string[]): StepGraph<S> {
    const wanted = new Set<string>()
    for (const id of ids) {
      const step = this.get(id)
      if (!step) throw new Error(`no step ${id} in the graph`)
      wanted.add(step.id)
      for (const need of this.needsOf(step)) wanted.add(need.id)
    }
    return new StepGraph(this.steps.filter((s) => wanted.has(s.id)))
  }

  /** The steps for which `keep` holds; edges through a dropped step are dropped with it. */
  filter<T extends S>(keep: (step: S) => step is T): StepGraph<T>
  filter(keep: (step: S) => boolean): StepGraph<S>
  filter(keep: (step: S) => boolean): StepGraph<S> {
    return new StepGraph(this.steps.filter(keep))
  }

  /** Every step's check of the settings alone; the first bad input throws. */
  check(settings: StackSettings): void {
    // Missing settings are gathered from every step and named in one line; any other bad input stops at once.
    const missing: MissingSettings[] = []
    for (const step of this.steps) {
      try {
        step.check?.(settings)
      } catch (error) {
        if (!(error instanceof MissingSettings)) throw error
        missing.push(error)
      }
    }
    if (missing.length > 0) throw new MissingSettings(missing.flatMap((error) => error.missing))
  }

  /**
   * The longest chain of steps by the given durations, forward (`up`) or
   * backward (cleanup): the least time a run can take however many steps run
   * at once.
   */
  criticalPath(duration: (step: S) => number, direction: 'forward' | 'backward' = 'forward'): {ms: number; path: S[]} {
    const before = (step: S) => (direction === 'forward' ? this.needsOf(step) : this.neededBy(step))
    const finish = new Map<string, {ms: number; via?: S}>()
    const finishOf = (step: S): number => {
      const known = finish.get(step.id)
      if (known) return known.ms
      let start = 0
      let via: S | undefined
      for (const previous of before(step)) {
        const done = finishOf(previous)
        if (done > start) { start = done; via = previous }
      }
      finish.set(step.id, {ms: start + duration(step), via})
      return start + duration(step)
    }
    for (const step of this.steps) finishOf(step)
    let last: S | undefined
    for (const step of this.steps) if (!last || (finish.get(step.id)?.ms ?? 0) > (finish.get(last.id)?.ms ?? 0)) last = step
    const path: S[] = []
    for (let step = last; step; step = finish.get(step.id)?.via) path.unshift(step)
    return {ms: last ? finish.get(last.id)?.ms ?? 0 : 0, path}
  }

  #checkAcyclic(): void {
    const state = new Map<string, 'visiting' | 'done'>()
    const visit = (step: S, trail: string[]): void => {
      if (state.get(step.id) === 'done') return
      if (state.get(step.id) === 'visiting') throw new Error(`steps need each other: ${[...trail, step.id].join(' → ')}`)
      state.set(step.id, 'visiting')
      for (const need of this.needsOf(step)) visit(need, [...trail, step.id])
      state.set(step.id, 'done')
    }
    for (const step of this.steps) visit(step, [])
  }
}
