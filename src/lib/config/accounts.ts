// Which profile and region each account of the settings is reached with: the
// one rule every command follows, so that iotctl.json's regions and profiles
// mean the same everywhere.
import {AwsAccount, type AccountOptions, type AccountRole} from '../aws/account.ts'
import type {StackSettings} from '../plan/types.ts'

/**
 * The account's profile, and its region: the account's own (`iot.region`, which
 * an explicit --region has already replaced), else the stack's `region`; left
 * undefined, the profile's region or AWS_REGION applies (profiles.ts resolveRegion).
 */
export function accountOptions(settings: StackSettings, role: AccountRole): AccountOptions {
  const section = settings[role]
  return {profile: section?.profile, region: section?.region ?? settings.region}
}

/** Checks the profile and region (InputError when unknown) and opens the account. */
export function openAccount(settings: StackSettings, role: AccountRole): Promise<AwsAccount> {
  return AwsAccount.open(accountOptions(settings, role))
}
