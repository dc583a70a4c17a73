// `msk consume` and the Kafka half of `doctor --probe`: where the brokers are
// (--bootstrap-server, else GetBootstrapBrokers' SASL/SCRAM string) and the
// SCRAM credentials (the stack's AmazonMSK_ secret, read with the MSK
// account's profile; they never leave ScramCredentials as text).
import {InputError} from '../errors.ts'
import {caBundleOf} from '../mqtt/local-endpoint.ts'
import type {StepContext} from '../plan/types.ts'
import {secretNameOf} from '../secrets/names.ts'
import {mskSecretOf} from '../secrets/secret-steps.ts'
import {readSecretValue} from '../secrets/store.ts'
import {bootstrapBrokers} from './index.ts'
import {parseBootstrapServers, type Broker, type KafkaConnection} from './kafka-client.ts'

export {consumeTopic, parseBootstrapServers, TopicReader, type ConsumeOutcome, type KafkaConnection, type KafkaMessage} from './kafka-client.ts'

export interface KafkaAccess {
  /** --bootstrap-server, parsed before any AWS call. */
  brokers?: Broker[]
  /** --ca; else AWS_CA_BUNDLE; else Node's store. */
  ca?: string
}

/** The stack's SCRAM credentials from the MSK account's secret. */
export async function stackCredentials(ctx: StepContext) {
  const secret = await mskSecretOf(ctx)
  const name = secretNameOf(ctx.settings)
  if (!secret?.ARN) throw new InputError(`no secret ${name} of stack '${ctx.stack}' in the MSK account to read the SCRAM credentials from; run \`iotctl up\` (or \`iotctl secret mirror\`) first`)
  const value = await readSecretValue(await ctx.accounts.msk.secrets(), secret.ARN, `reading the value of ${secret.Name} (MSK account)`)
  if (!value.credentials) throw new InputError(`${secret.Name} in the MSK account does not hold {"username","password"}; fix it or run \`iotctl secret rotate\``)
  return value.credentials
}

export async function kafkaConnectionOf(ctx: StepContext, access: KafkaAccess): Promise<KafkaConnection> {
  const brokers = access.brokers ?? parseBootstrapServers((await bootstrapBrokers(ctx)).BootstrapBrokerStringSaslScram!, 'GetBootstrapBrokers')
  const caFile = caBundleOf(access.ca)
  return {brokers, credentials: await stackCredentials(ctx), ...(caFile ? {caFile} : {})}
}
