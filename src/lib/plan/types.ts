// The step model (STYLE.md §4): each managed resource group is one Step with
// read / create / delete. `up` runs steps forward, `cleanup` backward,
// `--dry-run` shows what read says is missing (or present), `doctor` and
// `status` report read's findings. A new capability adds steps, not runners.
import type {AccountRole, Accounts, CallerIdentity} from '../aws/account.ts'
import type {IotctlConfig} from '../config/schema.ts'
import type {Ledger} from './ledger.ts'

/** One resource the stack owns, as written to the ledger: identifiers only, never a secret. */
export interface ResourceRecord {
  /** The id of the step that manages it. */
  step: string
  /** What it is, e.g. `ec2:vpc-peering-connection`, `ec2:route`. */
  kind: string
  /** Its AWS identifier (for a route: `<route table>:<destination cidr>`). */
  id: string
  account: AccountRole
  accountId: string
  region: string
  profile?: string
  /** Further identifiers that delete or status need (never secret values). */
  attrs?: Record<string, string>
}

/** What a step's read found. */
export interface Observation {
  /** Resources that exist and carry the stack's tag or construction mark. */
  resources: ResourceRecord[]
  /** One line per change `create` would make; empty means up to date. */
  missing: string[]
  /** Facts worth showing: adopted from tags, restored, a warning. */
  notes?: string[]
}

/** Settings of one stack: the config file with flags applied and a stack name. */
export type StackSettings = IotctlConfig & {stack: string}

export interface StepContext {
  stack: string
  settings: StackSettings
  accounts: Accounts
  identities: Record<AccountRole, CallerIdentity>
  ledger: Ledger
  /** Facts steps hand to later steps (VPC CIDRs, the peering id, …), by key. */
  facts: Map<string, unknown>
  /** Resources of earlier steps in this run, by step id. */
  outputs: Map<string, ResourceRecord[]>
  /** Progress for long waits ("waiting for the peering to become active"). */
  progress(message: string): void
  /** Throws Interrupted when the user pressed Ctrl-C; steps call it between mutating calls. */
  checkpoint(): void
  /** Options of the running command that steps honour (e.g. kms pending days). */
  options: Record<string, unknown>
}

export interface Step {
  /** Stable identifier, used in the ledger: `peering`, `routes:iot`, `sg-ingress`. */
  id: string
  /** One line for plans and progress: what this step manages. */
  title: string
  /** The account it changes. */
  account: AccountRole
  /**
   * Read-only checks of the settings, run for every step before any change, so
   * bad input stops the run with exit 2 and nothing changed.
   */
  validate?(ctx: StepContext): Promise<void>
  /** Finds what exists and is the stack's (by tags, construction marks and the ledger). */
  read(ctx: StepContext): Promise<Observation>
  /** Makes what read found missing; returns every resource the step now owns. */
  create(ctx: StepContext, observed: Observation): Promise<ResourceRecord[]>
  /** Deletes the given resources; "not found" counts as done. */
  delete(ctx: StepContext, resources: ResourceRecord[]): Promise<void>
  /** When false, cleanup leaves the step's resources alone (e.g. the cluster without --include-cluster). */
  cleanupByDefault?: boolean
  /**
   * When false, `up` does not create it (devices, tunnels: made by their own
   * commands), but cleanup still finds and deletes it.
   */
  partOfUp?: boolean
}
