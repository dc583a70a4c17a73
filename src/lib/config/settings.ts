// Flags override the config file; the config file overrides nothing but defaults.
import {relative} from 'node:path'
import {InputError} from '../errors.ts'
import type {StackSettings} from '../plan/types.ts'
import type {SettingOrigins} from './origins.ts'
import {configFileOf, stateDirectoryOf} from './files.ts'
import {configSchema, loadConfig, type IotctlConfig} from './schema.ts'

export const defaultStack = 'iotctl'

type Leaf = string | number | boolean | readonly unknown[]

/** Every dotted path to a value of T: `stack`, `iot.vpcId`, `rule.kafkaTopic`, … */
type PathsOf<T, Prefix extends string = ''> = {
  [K in keyof T & string]-?: NonNullable<T[K]> extends Leaf ? `${Prefix}${K}` : PathsOf<NonNullable<T[K]>, `${Prefix}${K}.`>
}[keyof T & string]

/** A setting a flag can give: a path to a value of iotctl.json (not `$schema`). */
export type ConfigPath = Exclude<PathsOf<IotctlConfig>, '$schema'>

/** The type iotctl.json holds at a path: `ConfigValue<'msk.port'>` is number. */
export type ConfigValue<P extends string, T = IotctlConfig> =
  P extends `${infer Head}.${infer Rest}` ? (Head extends keyof T ? ConfigValue<Rest, NonNullable<T[Head]>> : never)
    : P extends keyof T ? NonNullable<T[P]> : never

/** What a flag can set: every value type of ConfigPath's settings. */
export type SettingValue = ConfigValue<ConfigPath>

/**
 * One flag's value for one setting; `flag` (without the dashes) names it in
 * messages. The table of src/settings-flags.ts checks that value and path agree;
 * the schema checks the value again here.
 */
export interface SettingOverride {
  path: ConfigPath
  value: SettingValue
  flag: string
}

export interface LoadedSettings {
  settings: StackSettings
  configFile: string
  /** Where ledgers and tunnel token files live: `.iotctl/` beside the config file. */
  stateDirectory: string
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function setPath(target: Record<string, unknown>, keys: string[], value: unknown): void {
  const [key, ...rest] = keys
  if (rest.length === 0) {
    target[key] = value
    return
  }
  const child = target[key]
  const copy = isRecord(child) ? {...child} : {}
  target[key] = copy
  setPath(copy, rest, value)
}

function valueAt(node: unknown, path: PropertyKey[]): unknown {
  let current = node
  for (const key of path) current = isRecord(current) || Array.isArray(current) ? Reflect.get(current, key) : undefined
  return current
}

/**
 * The config with the flags' values applied in order (a later override of a
 * path wins), checked by the same schema as the file. A bad value is an
 * InputError naming the flag and the value typed: `--iot-vpc vpc-x: expected …`.
 */
export function applyOverrides(config: IotctlConfig, overrides: readonly SettingOverride[]): IotctlConfig {
  const merged: Record<string, unknown> = structuredClone(config)
  for (const override of overrides) setPath(merged, override.path.split('.'), override.value)
  const result = configSchema.safeParse(merged)
  if (result.success) return result.data
  const issue = result.error.issues[0]
  const path = issue.path.filter((p) => typeof p === 'string').join('.')
  const flag = overrides.findLast((o) => o.path === path)?.flag
  const value = valueAt(merged, issue.path)
  const typed = (typeof value === 'string' && value !== '') || typeof value === 'number' || typeof value === 'boolean' ? ` ${String(value)}` : ''
  throw new InputError(flag ? `--${flag}${typed}: ${issue.message}` : `${path}: ${issue.message}`)
}

export function loadSettings(configFlag: string | undefined, overrides: readonly SettingOverride[]): LoadedSettings {
  const configFile = configFileOf(configFlag)
  const fromFile = loadConfig(configFile, configFlag !== undefined)
  const config = applyOverrides(fromFile, overrides)
  const stack = config.stack ?? defaultStack
  const shown = relative(process.cwd(), configFile)
  const origins: SettingOrigins = {
    file: shown.startsWith('..') || shown === '' ? configFile : `./${shown}`,
    flags: Object.fromEntries(overrides.map((o) => [o.path, o.flag])),
    inFile: leafPaths(fromFile),
  }
  return {settings: {...config, stack, origins}, configFile, stateDirectory: stateDirectoryOf(configFile)}
}

/** The dotted paths of the values a config holds (`rule.name`, `iot.subnetIds`). */
function leafPaths(node: unknown, prefix = ''): string[] {
  if (!isRecord(node)) return prefix ? [prefix] : []
  return Object.entries(node).flatMap(([key, value]) => leafPaths(value, prefix ? `${prefix}.${key}` : key))
}
