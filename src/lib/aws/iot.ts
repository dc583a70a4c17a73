// The IoT operations iotctl uses, each a typed function over the client
// that AwsAccount.iot() hands out; `what` labels a failure (call.ts). The SDK
// module loads on first use, so importing this file loads none of it.
import type {
  AttachPolicyCommandInput,
  AttachThingPrincipalCommandInput,
  CreateKeysAndCertificateCommandInput,
  CreatePolicyCommandInput,
  CreatePolicyVersionCommandInput,
  CreateProvisioningTemplateCommandInput,
  CreateThingCommandInput,
  CreateTopicRuleCommandInput,
  CreateTopicRuleDestinationCommandInput,
  DeleteCertificateCommandInput,
  DeletePolicyCommandInput,
  DeletePolicyVersionCommandInput,
  DeleteProvisioningTemplateCommandInput,
  DeleteThingCommandInput,
  DeleteTopicRuleCommandInput,
  DeleteTopicRuleDestinationCommandInput,
  DescribeCertificateCommandInput,
  DescribeEndpointCommandInput,
  DescribeProvisioningTemplateCommandInput,
  DescribeThingCommandInput,
  DetachPolicyCommandInput,
  DetachThingPrincipalCommandInput,
  EnableTopicRuleCommandInput,
  GetPolicyCommandInput,
  GetTopicRuleCommandInput,
  GetTopicRuleDestinationCommandInput,
  IoTClient,
  ListPolicyVersionsCommandInput,
  Policy,
  ProvisioningTemplateSummary,
  ReplaceTopicRuleCommandInput,
  TagResourceCommandInput,
  Tag,
  ThingAttribute,
  TopicRuleDestinationSummary,
  TopicRuleListItem,
  UpdateCertificateCommandInput,
  UpdateThingCommandInput,
  UpdateTopicRuleDestinationCommandInput,
} from '@aws-sdk/client-iot'
import type {HttpHandlerOptions} from '@smithy/types'
import {collect, inputPerPage, send} from './call.ts'

const sdk = () => import('@aws-sdk/client-iot')

export const attachPolicy = (iot: IoTClient, input: AttachPolicyCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => iot.send(new (await sdk()).AttachPolicyCommand(input), options))

export const attachThingPrincipal = (iot: IoTClient, input: AttachThingPrincipalCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => iot.send(new (await sdk()).AttachThingPrincipalCommand(input), options))

export const createKeysAndCertificate = (iot: IoTClient, input: CreateKeysAndCertificateCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => iot.send(new (await sdk()).CreateKeysAndCertificateCommand(input), options))

export const createPolicy = (iot: IoTClient, input: CreatePolicyCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => iot.send(new (await sdk()).CreatePolicyCommand(input), options))

export const createProvisioningTemplate = (iot: IoTClient, input: CreateProvisioningTemplateCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => iot.send(new (await sdk()).CreateProvisioningTemplateCommand(input), options))

export const deleteProvisioningTemplate = (iot: IoTClient, input: DeleteProvisioningTemplateCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => iot.send(new (await sdk()).DeleteProvisioningTemplateCommand(input), options))

export const describeProvisioningTemplate = (iot: IoTClient, input: DescribeProvisioningTemplateCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => iot.send(new (await sdk()).DescribeProvisioningTemplateCommand(input), options))

export const createPolicyVersion = (iot: IoTClient, input: CreatePolicyVersionCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => iot.send(new (await sdk()).CreatePolicyVersionCommand(input), options))

export const tagResource = (iot: IoTClient, input: TagResourceCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => iot.send(new (await sdk()).TagResourceCommand(input), options))

export const createThing = (iot: IoTClient, input: CreateThingCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => iot.send(new (await sdk()).CreateThingCommand(input), options))

export const updateThing = (iot: IoTClient, input: UpdateThingCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => iot.send(new (await sdk()).UpdateThingCommand(input), options))

export const createTopicRule = (iot: IoTClient, input: CreateTopicRuleCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => iot.send(new (await sdk()).CreateTopicRuleCommand(input), options))

export const createTopicRuleDestination = (iot: IoTClient, input: CreateTopicRuleDestinationCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => iot.send(new (await sdk()).CreateTopicRuleDestinationCommand(input), options))

export const deleteCertificate = (iot: IoTClient, input: DeleteCertificateCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => iot.send(new (await sdk()).DeleteCertificateCommand(input), options))

export const deletePolicy = (iot: IoTClient, input: DeletePolicyCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => iot.send(new (await sdk()).DeletePolicyCommand(input), options))

export const deletePolicyVersion = (iot: IoTClient, input: DeletePolicyVersionCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => iot.send(new (await sdk()).DeletePolicyVersionCommand(input), options))

export const deleteThing = (iot: IoTClient, input: DeleteThingCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => iot.send(new (await sdk()).DeleteThingCommand(input), options))

export const deleteTopicRule = (iot: IoTClient, input: DeleteTopicRuleCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => iot.send(new (await sdk()).DeleteTopicRuleCommand(input), options))

export const deleteTopicRuleDestination = (iot: IoTClient, input: DeleteTopicRuleDestinationCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => iot.send(new (await sdk()).DeleteTopicRuleDestinationCommand(input), options))

export const describeCertificate = (iot: IoTClient, input: DescribeCertificateCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => iot.send(new (await sdk()).DescribeCertificateCommand(input), options))

export const describeEndpoint = (iot: IoTClient, input: DescribeEndpointCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => iot.send(new (await sdk()).DescribeEndpointCommand(input), options))

export const describeThing = (iot: IoTClient, input: DescribeThingCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => iot.send(new (await sdk()).DescribeThingCommand(input), options))

export const detachPolicy = (iot: IoTClient, input: DetachPolicyCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => iot.send(new (await sdk()).DetachPolicyCommand(input), options))

export const detachThingPrincipal = (iot: IoTClient, input: DetachThingPrincipalCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => iot.send(new (await sdk()).DetachThingPrincipalCommand(input), options))

export const enableTopicRule = (iot: IoTClient, input: EnableTopicRuleCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => iot.send(new (await sdk()).EnableTopicRuleCommand(input), options))

export const getPolicy = (iot: IoTClient, input: GetPolicyCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => iot.send(new (await sdk()).GetPolicyCommand(input), options))

export const getTopicRule = (iot: IoTClient, input: GetTopicRuleCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => iot.send(new (await sdk()).GetTopicRuleCommand(input), options))

export const getTopicRuleDestination = (iot: IoTClient, input: GetTopicRuleDestinationCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => iot.send(new (await sdk()).GetTopicRuleDestinationCommand(input), options))

export const listPolicyVersions = (iot: IoTClient, input: ListPolicyVersionsCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => iot.send(new (await sdk()).ListPolicyVersionsCommand(input), options))

export const replaceTopicRule = (iot: IoTClient, input: ReplaceTopicRuleCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => iot.send(new (await sdk()).ReplaceTopicRuleCommand(input), options))

export const updateCertificate = (iot: IoTClient, input: UpdateCertificateCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => iot.send(new (await sdk()).UpdateCertificateCommand(input), options))

export const updateTopicRuleDestination = (iot: IoTClient, input: UpdateTopicRuleDestinationCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => iot.send(new (await sdk()).UpdateTopicRuleDestinationCommand(input), options))

// Lists, every page through the SDK's paginator.

/** Every tag of a resource. */
export const listAllTagsForResource = (iot: IoTClient, resourceArn: string, what?: string): Promise<Tag[]> =>
  collect(what, async () => (await sdk()).paginateListTagsForResource({client: inputPerPage(iot)}, {resourceArn}), (page) => page.tags)

/** Every thing whose attribute has the value. */
export const listAllThingsWithAttribute = (iot: IoTClient, attributeName: string, attributeValue: string, what?: string): Promise<ThingAttribute[]> =>
  collect(what, async () => (await sdk()).paginateListThings({client: inputPerPage(iot)}, {attributeName, attributeValue}), (page) => page.things)

/** Every policy of the account and region. */
export const listAllPolicies = (iot: IoTClient, what?: string): Promise<Policy[]> =>
  collect(what, async () => (await sdk()).paginateListPolicies({client: inputPerPage(iot)}, {}), (page) => page.policies)

/** Every target (certificate, thing group…) a policy is attached to. */
export const listAllTargetsForPolicy = (iot: IoTClient, policyName: string, what?: string): Promise<string[]> =>
  collect(what, async () => (await sdk()).paginateListTargetsForPolicy({client: inputPerPage(iot)}, {policyName}), (page) => page.targets)

/** Every policy attached to a target. */
export const listAllAttachedPolicies = (iot: IoTClient, target: string, what?: string): Promise<Policy[]> =>
  collect(what, async () => (await sdk()).paginateListAttachedPolicies({client: inputPerPage(iot)}, {target}), (page) => page.policies)

/** Every principal (certificate ARN) attached to a thing. */
export const listAllThingPrincipals = (iot: IoTClient, thingName: string, what?: string): Promise<string[]> =>
  collect(what, async () => (await sdk()).paginateListThingPrincipals({client: inputPerPage(iot)}, {thingName}), (page) => page.principals)

/** Every thing a principal is attached to. */
export const listAllPrincipalThings = (iot: IoTClient, principal: string, what?: string): Promise<string[]> =>
  collect(what, async () => (await sdk()).paginateListPrincipalThings({client: inputPerPage(iot)}, {principal}), (page) => page.things)

/** Every topic rule destination of the account and region. */
export const listAllTopicRuleDestinations = (iot: IoTClient, what?: string): Promise<TopicRuleDestinationSummary[]> =>
  collect(what, async () => (await sdk()).paginateListTopicRuleDestinations({client: inputPerPage(iot)}, {}), (page) => page.destinationSummaries)

/** Every topic rule of the account and region. */
export const listAllTopicRules = (iot: IoTClient, what?: string, options?: HttpHandlerOptions): Promise<TopicRuleListItem[]> =>
  collect(what, async () => (await sdk()).paginateListTopicRules({client: inputPerPage(iot)}, {}, options), (page) => page.rules)

/** Every provisioning template of the account and region. */
export const listAllProvisioningTemplates = (iot: IoTClient, what?: string): Promise<ProvisioningTemplateSummary[]> =>
  collect(what, async () => (await sdk()).paginateListProvisioningTemplates({client: inputPerPage(iot)}, {}), (page) => page.templates)
