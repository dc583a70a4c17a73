// Profile and region checks made before any AWS call, so that a typo is exit 2
// with the offending name rather than an SDK stack trace. Files are read with
// the SDK's own shared-ini loader (AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE).
import {loadSharedConfigFiles} from '@smithy/shared-ini-file-loader'
import {InputError} from '../errors.ts'

// Region names as AWS forms them (partition prefix, geography, number):
// us-east-1, eu-central-2, ap-southeast-4, us-gov-west-1, cn-north-1, us-isob-east-1.
const regionPattern = /^(?:us|eu|ap|sa|ca|me|af|il|mx|cn|us-gov|us-iso|us-isob|eu-isoe|us-isof)-(?:east|west|north|south|central|northeast|northwest|southeast|southwest)-\d{1,2}$/

export function isRegionName(region: string): boolean {
  return regionPattern.test(region)
}

/** The settings of a named profile, merged from the config and credentials files; undefined if absent. */
export async function readProfile(name: string): Promise<Record<string, string | undefined> | undefined> {
  const {configFile, credentialsFile} = await loadSharedConfigFiles({ignoreCache: true})
  if (!configFile[name] && !credentialsFile[name]) return undefined
  return {...credentialsFile[name], ...configFile[name]}
}

/**
 * The region for an account handle, in the SDK's order: the explicit region,
 * AWS_REGION (and the CLI's AWS_DEFAULT_REGION), then the profile's `region`.
 * An unknown profile or a malformed region is an InputError naming it.
 */
export async function resolveRegion(profileName: string | undefined, explicitRegion?: string): Promise<string> {
  const name = profileName ?? process.env.AWS_PROFILE ?? 'default'
  const profile = await readProfile(name)
  if (profileName !== undefined && !profile) {
    throw new InputError(`profile '${profileName}' is not defined in the AWS config or credentials file`)
  }
  // The SDK would fail later, at the first call, with a message that names no variable.
  if (profileName === undefined && process.env.AWS_PROFILE && !profile) {
    throw new InputError(`AWS_PROFILE '${process.env.AWS_PROFILE}' is not defined in the AWS config or credentials file`)
  }
  const region = explicitRegion ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? profile?.region
  if (!region) {
    throw new InputError(`no region for profile '${name}': pass --region or set region in the profile`)
  }
  if (!isRegionName(region)) throw new InputError(`region '${region}' is not an AWS region name (e.g. us-east-1)`)
  return region
}
