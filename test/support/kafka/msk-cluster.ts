// An ACTIVE MSK cluster with SASL/SCRAM on the local AWS, and SCRAM secrets as
// MSK wants them (AmazonMSK_ name, customer managed KMS key), made with the SDK
// as a user would: the setup the local-kafka tests share.
import {BatchAssociateScramSecretCommand, CreateClusterV2Command, DescribeClusterV2Command, KafkaClient} from '@aws-sdk/client-kafka'
import {CreateKeyCommand, KMSClient} from '@aws-sdk/client-kms'
import {CreateSecretCommand, SecretsManagerClient} from '@aws-sdk/client-secrets-manager'
import type {LocalAws} from '../local-aws/index.ts'

export interface ScramCluster {
  clusterArn: string
  /** The cluster's client subnets: two subnets of a VPC made for it, in distinct zones (MSK refuses others). */
  subnetIds: string[]
  kafka: KafkaClient
  secrets: SecretsManagerClient
  /** A new AmazonMSK_<name> secret holding {username, password}, encrypted with the cluster's key. */
  createSecret(name: string, username: string, password: string): Promise<string>
  associate(secretArn: string): Promise<void>
  destroy(): void
}

export async function createScramCluster(aws: LocalAws, name: string, kafkaVersion = '3.6.0'): Promise<ScramCluster> {
  const kafka = new KafkaClient(aws.clientConfig('msk'))
  const kms = new KMSClient(aws.clientConfig('msk'))
  const secrets = new SecretsManagerClient(aws.clientConfig('msk'))
  const subnetIds = (await aws.createNetwork({name})).msk.subnetIds.slice(0, 2)
  const created = await kafka.send(
    new CreateClusterV2Command({
      ClusterName: name,
      Provisioned: {
        KafkaVersion: kafkaVersion,
        NumberOfBrokerNodes: 2,
        BrokerNodeGroupInfo: {InstanceType: 'kafka.t3.small', ClientSubnets: subnetIds},
        ClientAuthentication: {Sasl: {Scram: {Enabled: true}}},
        EncryptionInfo: {EncryptionInTransit: {ClientBroker: 'TLS', InCluster: true}},
      },
    }),
  )
  const clusterArn = created.ClusterArn!
  const deadline = Date.now() + 30_000
  while ((await kafka.send(new DescribeClusterV2Command({ClusterArn: clusterArn}))).ClusterInfo?.State !== 'ACTIVE') {
    if (Date.now() > deadline) throw new Error(`cluster ${name} did not become ACTIVE`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  const keyId = (await kms.send(new CreateKeyCommand({Description: `${name} SCRAM secrets`}))).KeyMetadata!.KeyId!
  kms.destroy()
  return {
    clusterArn,
    subnetIds,
    kafka,
    secrets,
    createSecret: async (secretName, username, password) =>
      (await secrets.send(new CreateSecretCommand({Name: `AmazonMSK_${secretName}`, KmsKeyId: keyId, SecretString: JSON.stringify({username, password})}))).ARN!,
    associate: async (secretArn) => {
      const answer = await kafka.send(new BatchAssociateScramSecretCommand({ClusterArn: clusterArn, SecretArnList: [secretArn]}))
      if (answer.UnprocessedScramSecrets?.length) throw new Error(`association refused: ${JSON.stringify(answer.UnprocessedScramSecrets)}`)
    },
    destroy: () => {
      kafka.destroy()
      secrets.destroy()
    },
  }
}
