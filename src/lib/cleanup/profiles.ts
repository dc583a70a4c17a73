// On a machine where the config file is gone but the ledger survived, cleanup
// still knows which profiles created what: the ledger records them.
import type {LoadedSettings} from '../config/settings.ts'
import {Ledger} from '../plan/ledger.ts'

export function fillProfilesFromLedger(loaded: LoadedSettings): void {
  const ledger = Ledger.open(loaded.stateDirectory, loaded.settings.stack, {readOnly: true})
  for (const role of ['iot', 'msk'] as const) {
    if (loaded.settings[role]?.profile) continue
    const profile = ledger.resources.find((r) => r.account === role && r.profile)?.profile
    if (profile) loaded.settings[role] = {...loaded.settings[role], profile}
  }
}
