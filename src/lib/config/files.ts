// Where iotctl.json and the state directory are, without reading or checking
// the file (that is ./settings.ts, with the schema): what the lean runner
// (src/lean) needs to find a tunnel's token file without loading zod.
import {dirname, join, resolve} from 'node:path'

const defaultConfigFile = 'iotctl.json'

/** How messages name .iotctl/. */
export const STATE_DIRECTORY = 'state directory'

/** The config file --config names, else ./iotctl.json, as an absolute path. */
export function configFileOf(configFlag: string | undefined): string {
  return resolve(configFlag ?? defaultConfigFile)
}

/** Where ledgers and tunnel token files live: `.iotctl/` beside the config file. */
export function stateDirectoryOf(configFile: string): string {
  return join(dirname(configFile), '.iotctl')
}
