// The shape of one doctor check and its verdict.
import type {StepContext} from '../plan/types.ts'
import type {Registry} from './registry.ts'

export type CheckStatus = 'pass' | 'fail' | 'warn' | 'skip'

export interface Check {
  /** Stable id scripts can select on: `routes:iot`, `secrets-match`, `rule`. */
  id: string
  title: string
  status: CheckStatus
  /** What was found (names and ids, never a secret value). */
  detail: string
  /** How to fix it, for a failed or warned check. */
  hint?: string
}

export interface DoctorResult {
  stack: string
  /** True when no check failed (warnings allowed). */
  healthy: boolean
  checks: Check[]
}

/** One check's verdict, as the check functions return it. */
export type Verdict = Omit<Check, 'id' | 'title'>

export interface CheckDefinition {
  id: string
  /** The registry step whose resources it examines: doctor runs the checks in the registry's order. */
  step: string
  title: string
  /** When given and false for the stack's settings, the check is left out (e.g. a consumer network that is not chosen). */
  applies?(settings: StepContext['settings']): boolean
  run(ctx: StepContext, registry: Registry): Promise<Verdict>
}

export const pass = (detail: string): Verdict => ({status: 'pass', detail})
export const fail = (detail: string, hint: string): Verdict => ({status: 'fail', detail, hint})
export const warn = (detail: string, hint: string): Verdict => ({status: 'warn', detail, hint})
