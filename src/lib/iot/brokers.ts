// The SASL/SCRAM bootstrap brokers the rule's Kafka action connects to, read
// with A's credentials (msk's GetBootstrapBrokers). Where the cluster comes
// from: the config (an existing cluster), the stack's msk-cluster step, or
// its SCRAM association.
import type {AwsAccount} from '../aws/account.ts'
import {InputError} from '../errors.ts'
import {getBootstrapBrokers} from '../msk/clusters.ts'
import type {StepContext} from '../plan/types.ts'

export function clusterArnOf(ctx: StepContext): string | undefined {
  return ctx.settings.msk?.clusterArn ??
    ctx.outputs.get('msk-cluster')?.[0]?.id ??
    ctx.outputs.get('scram-association')?.[0]?.attrs?.clusterArn ??
    ctx.ledger.forStep('msk-cluster')[0]?.id
}

/** `BootstrapBrokerStringSaslScram`: port 9096 brokers, comma-separated. */
export async function scramBootstrapBrokers(account: AwsAccount, clusterArn: string): Promise<string> {
  const brokers = (await getBootstrapBrokers(await account.kafka(), clusterArn)).BootstrapBrokerStringSaslScram
  if (!brokers) {
    throw new InputError(`cluster ${clusterArn} has no SASL/SCRAM bootstrap brokers: enable SASL/SCRAM client authentication on it (iotctl msk create does)`)
  }
  return brokers
}
