// Flags override the config file; the config file overrides nothing but defaults.
import {dirname, join, resolve} from 'node:path'
import {InputError} from '../errors.ts'
import type {StackSettings} from '../plan/types.ts'
import {loadConfig, stackName, type IotctlConfig} from './schema.ts'

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

export function loadSettings(configFlag: string | undefined, overrides: SettingOverrides): LoadedSettings {
  const configFile = resolve(configFlag ?? defaultConfigFile)
  const config = applyOverrides(loadConfig(configFile, configFlag !== undefined), overrides)
  const stack = config.stack ?? defaultStack
  const checked = stackName.safeParse(stack)
  if (!checked.success) throw new InputError(`--stack '${stack}': ${checked.error.issues[0].message}`)
  return {settings: {...config, stack}, configFile, stateDirectory: join(dirname(configFile), '.iotctl')}
}
