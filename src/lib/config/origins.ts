// Where a setting's value came from, so an error names what the user should
// fix: `--rule-name` when they typed it, `rule.name in ./iotctl.json` when the
// file holds it (issue 19). Filled by loadSettings; absent in tests that build
// settings by hand, where the message falls back to `--flag (key)`.

/** The flags that set a config path, as typed, and the config file (as the user would name it). */
export interface SettingOrigins {
  file: string
  flags: Partial<Record<string, string>>
  /** Config paths present in the file. */
  inFile: readonly string[]
}

/** What an error calls the setting at `path`: the flag as typed, the key in the file, or both when unknown. */
export function settingName(settings: {origins?: SettingOrigins}, path: string, flag: string): string {
  const origins = settings.origins
  const typed = origins?.flags[path]
  if (typed) return `--${typed}`
  if (origins?.inFile.includes(path)) return `${path} in ${origins.file}`
  return `${flag} (${path})`
}
