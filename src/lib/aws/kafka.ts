// The MSK (Kafka) operations iotctl uses, each a typed function over the client
// that AwsAccount.kafka() hands out; `what` labels a failure (call.ts). The SDK
// module loads on first use, so importing this file loads none of it.
import type {
  BatchAssociateScramSecretCommandInput,
  BatchDisassociateScramSecretCommandInput,
  Cluster,
  Configuration,
  CreateClusterCommandInput,
  CreateConfigurationCommandInput,
  CreateTopicCommandInput,
  DeleteClusterCommandInput,
  DeleteConfigurationCommandInput,
  DeleteTopicCommandInput,
  DescribeClusterV2CommandInput,
  DescribeConfigurationCommandInput,
  DescribeConfigurationRevisionCommandInput,
  DescribeTopicCommandInput,
  GetBootstrapBrokersCommandInput,
  KafkaClient,
  UpdateClusterConfigurationCommandInput,
} from '@aws-sdk/client-kafka'
import type {HttpHandlerOptions} from '@smithy/types'
import {collect, inputPerPage, send} from './call.ts'

const sdk = () => import('@aws-sdk/client-kafka')

export const batchAssociateScramSecret = (kafka: KafkaClient, input: BatchAssociateScramSecretCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => kafka.send(new (await sdk()).BatchAssociateScramSecretCommand(input), options))

export const batchDisassociateScramSecret = (kafka: KafkaClient, input: BatchDisassociateScramSecretCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => kafka.send(new (await sdk()).BatchDisassociateScramSecretCommand(input), options))

export const createCluster = (kafka: KafkaClient, input: CreateClusterCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => kafka.send(new (await sdk()).CreateClusterCommand(input), options))

export const createConfiguration = (kafka: KafkaClient, input: CreateConfigurationCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => kafka.send(new (await sdk()).CreateConfigurationCommand(input), options))

export const createTopic = (kafka: KafkaClient, input: CreateTopicCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => kafka.send(new (await sdk()).CreateTopicCommand(input), options))

export const deleteCluster = (kafka: KafkaClient, input: DeleteClusterCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => kafka.send(new (await sdk()).DeleteClusterCommand(input), options))

export const deleteConfiguration = (kafka: KafkaClient, input: DeleteConfigurationCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => kafka.send(new (await sdk()).DeleteConfigurationCommand(input), options))

export const deleteTopic = (kafka: KafkaClient, input: DeleteTopicCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => kafka.send(new (await sdk()).DeleteTopicCommand(input), options))

export const describeClusterV2 = (kafka: KafkaClient, input: DescribeClusterV2CommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => kafka.send(new (await sdk()).DescribeClusterV2Command(input), options))

export const describeConfiguration = (kafka: KafkaClient, input: DescribeConfigurationCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => kafka.send(new (await sdk()).DescribeConfigurationCommand(input), options))

export const describeConfigurationRevision = (kafka: KafkaClient, input: DescribeConfigurationRevisionCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => kafka.send(new (await sdk()).DescribeConfigurationRevisionCommand(input), options))

export const describeTopic = (kafka: KafkaClient, input: DescribeTopicCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => kafka.send(new (await sdk()).DescribeTopicCommand(input), options))

export const getBootstrapBrokers = (kafka: KafkaClient, input: GetBootstrapBrokersCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => kafka.send(new (await sdk()).GetBootstrapBrokersCommand(input), options))

export const updateClusterConfiguration = (kafka: KafkaClient, input: UpdateClusterConfigurationCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => kafka.send(new (await sdk()).UpdateClusterConfigurationCommand(input), options))

// Lists, every page through the SDK's paginator.

/** Every provisioned cluster, optionally only those whose name starts with `prefix`. */
export const listAllProvisionedClusters = (kafka: KafkaClient, prefix: string | undefined, what?: string): Promise<Cluster[]> =>
  collect(what, async () => (await sdk()).paginateListClustersV2({client: inputPerPage(kafka)}, {ClusterTypeFilter: 'PROVISIONED', ClusterNameFilter: prefix}), (page) => page.ClusterInfoList)

/** The ARNs of every secret associated with a cluster. */
export const listAllScramSecrets = (kafka: KafkaClient, clusterArn: string, what?: string): Promise<string[]> =>
  collect(what, async () => (await sdk()).paginateListScramSecrets({client: inputPerPage(kafka)}, {ClusterArn: clusterArn}), (page) => page.SecretArnList)

/** Every MSK configuration of the account and region. */
export const listAllConfigurations = (kafka: KafkaClient, what?: string): Promise<Configuration[]> =>
  collect(what, async () => (await sdk()).paginateListConfigurations({client: inputPerPage(kafka)}, {}), (page) => page.Configurations)
