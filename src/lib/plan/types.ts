// The step model (STYLE.md §4): each managed resource group is one Step with
// read / create / delete. `up` runs steps forward, `cleanup` backward,
// `--dry-run` shows what read says is missing (or present), `doctor` and
// `status` report read's findings. A new capability adds steps, not runners.
import type {AccountRole, Accounts, CallerIdentity} from '../aws/account.ts'
import type {SettingOrigins} from '../config/origins.ts'
import type {IotctlConfig} from '../config/schema.ts'
import type {StackLease} from '../lease/index.ts'
import type {FactKey, Facts} from './facts.ts'
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

/**
 * Something a read found wrong with what exists, for `doctor`, `peer status`,
 * `up`'s summary and --json, which read these fields and never the text:
 * - broken: exists but does not work (a blackhole route, a FAILED cluster);
 * - drifted: exists and works but differs from the settings (a key policy missing a statement);
 * - restorable: was deleted and can be brought back (a secret or key pending deletion).
 * What is missing altogether is `Observation.missing`.
 */
export interface Finding {
  kind: 'broken' | 'drifted' | 'restorable'
  /** Stable identifier for scripts: `route-blackhole`, `cluster-failed`, `secret-pending-deletion`. */
  code: string
  /** One line for people. */
  text: string
  /** The command that repairs it, when there is one. */
  fix?: string
}

/**
 * Something cleanup found beside the stack's resources but leaves alone, because
 * nothing confirms the stack made it: a certificate attached to the stack's thing
 * that iotctl did not create, a route pointed elsewhere since the plan was shown.
 * One line each in the report, and in --json.
 */
export interface LeftInPlace {
  kind: string
  id: string
  account: AccountRole
  /** Why, and what cleanup did instead (e.g. detached it from the stack's thing). */
  reason: string
}

/** What a step's delete leaves behind on purpose (see LeftInPlace). */
export interface DeleteResult {
  leftInPlace: LeftInPlace[]
}

/** What a step's read found. */
export interface Observation {
  /** Resources that exist and carry the stack's tag or construction mark. */
  resources: ResourceRecord[]
  /** One line per change `create` would make; empty means up to date. */
  missing: string[]
  /** What is wrong with what exists (see Finding). */
  findings?: Finding[]
  /** Facts worth showing that are not problems: adopted from tags, another VPC's peering. */
  notes?: string[]
  /** What cleanup will leave alone although it hangs on the stack's resources. */
  leftInPlace?: LeftInPlace[]
}

/** Settings of one stack: the config file with flags applied and a stack name; `origins` says which came from where. */
export type StackSettings = IotctlConfig & {stack: string; origins?: SettingOrigins}

export interface StepContext {
  stack: string
  settings: StackSettings
  accounts: Accounts
  identities: Record<AccountRole, CallerIdentity>
  ledger: Ledger
  /** Facts steps hand to later steps (VPC CIDRs, the peering id, …), typed by their keys. */
  facts: Facts
  /** Resources of earlier steps in this run, by step id. */
  outputs: Map<string, ResourceRecord[]>
  /** Progress for long waits ("waiting for the peering to become active"). */
  progress: (message: string) => void
  /** Throws Interrupted when the user pressed Ctrl-C; steps call it between mutating calls. */
  checkpoint: () => void
  /** Options of the running command that steps honour (e.g. kms pending days). */
  options: Record<string, unknown>
  /** Steps whose check of the settings already passed (when the context was made), so the runner does not check them again. */
  checked?: ReadonlySet<string>
  /**
   * The stack's lease (src/lib/lease), on contexts of runs that change the
   * stack (none with --dry-run, doctor, status). The runner holds it from
   * after the checks to the end of the run; code that changes the stack
   * outside the runner calls `hold()` before its first change. A lease lost
   * while held stops the run at the next checkpoint.
   */
  lease?: StackLease
}

interface StepBase {
  /** Stable identifier, used in the ledger: `peering`, `routes:iot`, `sg-ingress`. */
  id: string
  /** One line for plans and progress: what this step manages. */
  title: string
  /** The account it changes. */
  account: AccountRole
  /**
   * Facts of other steps this one uses. When the step providing one is part of
   * the run, this step starts after it (and cleanup deletes this step's
   * resources before that one's); when it is not, the step finds what it needs
   * itself (ledger, tags, settings).
   */
  needs?: readonly FactKey<unknown>[]
  /** Facts this step sets for the steps that need them. */
  provides?: readonly FactKey<unknown>[]
  /**
   * Checks of the settings alone, run for every step of a run before any AWS
   * call (before the profiles are even resolved): bad input is exit 2 with
   * nothing touched. Throws InputError naming the flag or config key.
   */
  check?(settings: StackSettings): void
  /**
   * Read-only checks against the accounts (the VPCs exist, a route is not
   * somebody else's), run for every step before any change.
   */
  validate?(ctx: StepContext): Promise<void>
  /** Finds what exists and is the stack's (by tags, construction marks and the ledger). */
  read(ctx: StepContext): Promise<Observation>
  /**
   * Deletes the given resources; "not found" counts as done. A resource that is
   * no longer the stack's when its turn comes (re-read just before) is left
   * alone and returned in `leftInPlace`.
   */
  delete(ctx: StepContext, resources: ResourceRecord[]): Promise<void | DeleteResult>
  /** When false, cleanup leaves the step's resources alone (e.g. the cluster without --include-cluster). */
  cleanupByDefault?: boolean
}

/** A step `up` brings up to date: it reads, creates what is missing, deletes on cleanup. */
export interface Step extends StepBase {
  /** Makes what read found missing; returns every resource the step now owns. */
  create(ctx: StepContext, observed: Observation): Promise<ResourceRecord[]>
}

/**
 * What the stack's own commands make outside `up` (devices, tunnels): `up`
 * never creates it; cleanup, doctor and status find and delete it.
 */
export interface FoundStep extends StepBase {
  create?: undefined
}

export type AnyStep = Step | FoundStep

export function isManaged(step: AnyStep): step is Step {
  return typeof step.create === 'function'
}
