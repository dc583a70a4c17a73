// Flags override the config file; the config file overrides nothing but defaults.
import {dirname, join, resolve} from 'node:path'
import {InputError} from '../errors.ts'
import type {StackSettings} from '../plan/types.ts'
import {configSchema, loadConfig, type IotctlConfig} from './schema.ts'

export const defaultConfigFile = 'iotctl.json'
export const defaultStack = 'iotctl'

/** Flag values by config path (`iot.vpcId`); undefined values leave the config as it is. */
export type SettingOverrides = Partial<Record<string, unknown>>

export interface LoadedSettings {
  settings: StackSettings
  configFile: string
  /** Where ledgers and tunnel token files live: `.iotctl/` beside the config file. */
  stateDirectory: string
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.')
  let node = target
  for (const key of keys.slice(0, -1)) {
    node[key] = {...(node[key] as Record<string, unknown> | undefined)}
    node = node[key] as Record<string, unknown>
  }
  node[keys.at(-1) as string] = value
}

export function applyOverrides(config: IotctlConfig, overrides: SettingOverrides): IotctlConfig {
  const merged = structuredClone(config) as Record<string, unknown>
  for (const [path, value] of Object.entries(overrides)) if (value !== undefined) setPath(merged, path, value)
  return merged as IotctlConfig
}

/**
 * The flag the user typed for a value, found in argv (`--iot-vpc vpc-1`,
 * `--iot-vpc=vpc-1`, or an element of a comma-separated list), so messages
 * name the flag even when several flags map to one config key.
 */
function flagTyped(value: unknown, argv: string[]): string | undefined {
  const text = String(value)
  for (const [index, arg] of argv.entries()) {
    const inline = /^(--?[\w-]+)=(.*)$/.exec(arg)
    if (inline && inline[2].split(',').includes(text)) return inline[1]
    if (/^--?[\w-]+$/.test(arg) && argv[index + 1]?.split(',').includes(text)) return arg
  }
  return undefined
}

/** Checks flag values against the same schema as the file; InputError names the flag. */
function checkOverrides(merged: IotctlConfig, overrides: SettingOverrides, argv: string[]): void {
  const result = configSchema.safeParse(merged)
  if (result.success) return
  const issue = result.error.issues[0]
  const path = issue.path.filter((p) => typeof p === 'string').join('.')
  const value = issue.path.reduce<unknown>((node, key) => (node as Record<PropertyKey, unknown> | undefined)?.[key as PropertyKey], merged)
  const flag = overrides[path] !== undefined ? flagTyped(value, argv) : undefined
  throw new InputError(flag ? `${flag} ${String(value)}: ${issue.message}` : `${path}: ${issue.message}`)
}

export function loadSettings(configFlag: string | undefined, overrides: SettingOverrides, argv: string[] = process.argv.slice(2)): LoadedSettings {
  const configFile = resolve(configFlag ?? defaultConfigFile)
  const config = applyOverrides(loadConfig(configFile, configFlag !== undefined), overrides)
  checkOverrides(config, overrides, argv)
  const stack = config.stack ?? defaultStack
  return {settings: {...config, stack}, configFile, stateDirectory: join(dirname(configFile), '.iotctl')}
}
