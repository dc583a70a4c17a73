// What exists in the local two-account AWS, read with the SDK in the test
// process, in the shape of the ledger's records (kind + id), so a test can say
// "each kind exactly once" and "the ledger names exactly what exists". It counts
// every live resource of each kind, tagged or not, so a duplicate made without
// the stack's marks is counted too; the network the test made itself (VPCs,
// subnets, route tables, groups, their local routes) and the seeded admin role
// are not resources of that kind and are left out.
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {DescribeRouteTablesCommand, DescribeSecurityGroupRulesCommand, DescribeVpcPeeringConnectionsCommand, EC2Client} from '@aws-sdk/client-ec2'
import {IAMClient, ListRolesCommand} from '@aws-sdk/client-iam'
import {IoTClient, ListTopicRuleDestinationsCommand, ListTopicRulesCommand} from '@aws-sdk/client-iot'
import {KafkaClient, ListClustersV2Command, ListConfigurationsCommand, ListScramSecretsCommand} from '@aws-sdk/client-kafka'
import {DescribeKeyCommand, GetKeyPolicyCommand, KMSClient, ListKeysCommand} from '@aws-sdk/client-kms'
import {ListSecretsCommand, SecretsManagerClient} from '@aws-sdk/client-secrets-manager'
import {ADMIN_ROLE, type LocalAws, type Network} from './local-aws/index.ts'

export type Role = 'iot' | 'msk'

export interface Item {
  account: Role
  kind: string
  id: string
}

/** `iot iam:role`, the key of the counts. */
export const kindKey = (item: {account: string; kind: string}): string => `${item.account} ${item.kind}`
/** `iot iam:role iotctl-x-iot-to-msk`, comparable with a ledger record. */
export const itemKey = (item: {account: string; kind: string; id: string}): string => `${item.account} ${item.kind} ${item.id}`

/** Exactly one of each after a full `up --create-cluster` (one route table per VPC in createNetwork's network); two secrets per account and two associations: the alternating users. */
export const oneOfEach: Record<string, number> = {
  'iot ec2:vpc-peering-connection': 1,
  'iot ec2:route': 1,
  'msk ec2:route': 1,
  'msk ec2:security-group-rule': 1,
  'msk kms:key': 1,
  'iot kms:key': 1,
  'msk secretsmanager:secret': 2,
  'iot secretsmanager:secret': 2,
  'msk kafka:cluster': 1,
  'msk kafka:scram-association': 2,
  'iot iam:role': 1,
  'iot kms:key-policy-statement': 1,
  'iot iot:topic-rule-destination': 1,
  'iot iot:topic-rule': 1,
}

export function counts(items: Item[]): Record<string, number> {
  const out: Record<string, number> = {}
  for (const item of items) out[kindKey(item)] = (out[kindKey(item)] ?? 0) + 1
  return out
}

const livePeering = new Set(['initiating-request', 'pending-acceptance', 'provisioning', 'active'])

interface Clients {
  ec2: EC2Client
  iam: IAMClient
  iot: IoTClient
  kafka: KafkaClient
  kms: KMSClient
  secrets: SecretsManagerClient
}

/** New clients for each look-up: aws.reset() forgets the roles' session keys, so cached clients would speak for no account. */
function clientsOf(aws: LocalAws): Record<Role, Clients> {
  const make = (role: Role): Clients => {
    const config = aws.clientConfig(role)
    return {ec2: new EC2Client(config), iam: new IAMClient(config), iot: new IoTClient(config), kafka: new KafkaClient(config), kms: new KMSClient(config), secrets: new SecretsManagerClient(config)}
  }
  return {iot: make('iot'), msk: make('msk')}
}

function destroy(clients: Record<Role, Clients>): void {
  for (const set of Object.values(clients)) for (const client of Object.values(set)) client.destroy()
}

/** Live customer-managed keys (not pending deletion) of an account. */
async function liveKeys(kms: KMSClient): Promise<string[]> {
  const ids: string[] = []
  for (const entry of (await kms.send(new ListKeysCommand({}))).Keys ?? []) {
    const key = (await kms.send(new DescribeKeyCommand({KeyId: entry.KeyId}))).KeyMetadata
    if (key?.KeyManager === 'CUSTOMER' && key.KeyState !== 'PendingDeletion') ids.push(key.KeyId!)
  }
  return ids
}

/**
 * Every live resource of the kinds iotctl makes, in both accounts. Routes and
 * ingress rules are read in the VPCs and the broker group of `networks`.
 */
export async function inventory(aws: LocalAws, networks: Network[]): Promise<Item[]> {
  const clients = clientsOf(aws)
  try {
    return await readAll(clients, networks)
  } finally {
    destroy(clients)
  }
}

async function readAll(clients: Record<Role, Clients>, networks: Network[]): Promise<Item[]> {
  const item = (account: Role, kind: string, id: string): Item => ({account, kind, id})
  const peerings = async (): Promise<Item[]> => ((await clients.iot.ec2.send(new DescribeVpcPeeringConnectionsCommand({}))).VpcPeeringConnections ?? [])
    .filter((pcx) => livePeering.has(pcx.Status?.Code ?? '')).map((pcx) => item('iot', 'ec2:vpc-peering-connection', pcx.VpcPeeringConnectionId!))
  const routes = async (role: Role): Promise<Item[]> => {
    const tables = (await clients[role].ec2.send(new DescribeRouteTablesCommand({Filters: [{Name: 'vpc-id', Values: networks.map((n) => n[role].vpcId)}]}))).RouteTables ?? []
    return tables.flatMap((table) => (table.Routes ?? []).filter((route) => route.VpcPeeringConnectionId)
      .map((route) => item(role, 'ec2:route', `${table.RouteTableId}:${route.DestinationCidrBlock}`)))
  }
  const ingress = async (): Promise<Item[]> => ((await clients.msk.ec2.send(new DescribeSecurityGroupRulesCommand({Filters: [{Name: 'group-id', Values: networks.map((n) => n.msk.securityGroupId)}]}))).SecurityGroupRules ?? [])
    .filter((rule) => !rule.IsEgress).map((rule) => item('msk', 'ec2:security-group-rule', rule.SecurityGroupRuleId!))
  const keys = async (role: Role): Promise<Item[]> => (await Promise.all((await liveKeys(clients[role].kms)).map(async (keyId) => {
    const policy = JSON.parse((await clients[role].kms.send(new GetKeyPolicyCommand({KeyId: keyId, PolicyName: 'default'}))).Policy ?? '{}') as {Statement?: {Sid?: string}[]}
    const keyUsers = (policy.Statement ?? []).filter((s) => s.Sid?.endsWith('IotRuleRoleKeyUser')).map((s) => item(role, 'kms:key-policy-statement', `${keyId}/${s.Sid}`))
    return [item(role, 'kms:key', keyId), ...keyUsers]
  }))).flat()
  const secrets = async (role: Role): Promise<Item[]> => ((await clients[role].secrets.send(new ListSecretsCommand({}))).SecretList ?? [])
    .filter((secret) => !secret.DeletedDate).map((secret) => item(role, 'secretsmanager:secret', secret.ARN!))
  const roles = async (role: Role): Promise<Item[]> => ((await clients[role].iam.send(new ListRolesCommand({}))).Roles ?? [])
    .filter((r) => r.RoleName !== ADMIN_ROLE).map((r) => item(role, 'iam:role', r.RoleName!))
  const destinations = async (role: Role): Promise<Item[]> => ((await clients[role].iot.send(new ListTopicRuleDestinationsCommand({}))).destinationSummaries ?? [])
    .filter((d) => d.status !== 'DELETING').map((d) => item(role, 'iot:topic-rule-destination', d.arn!))
  const rules = async (role: Role): Promise<Item[]> => ((await clients[role].iot.send(new ListTopicRulesCommand({}))).rules ?? [])
    .map((rule) => item(role, 'iot:topic-rule', rule.ruleName!))
  const clusters = async (role: Role): Promise<Item[]> => (await Promise.all(((await clients[role].kafka.send(new ListClustersV2Command({}))).ClusterInfoList ?? [])
    .filter((cluster) => cluster.State !== 'DELETING').map(async (cluster) => {
    const associated = (await clients[role].kafka.send(new ListScramSecretsCommand({ClusterArn: cluster.ClusterArn}))).SecretArnList ?? []
    return [item(role, 'kafka:cluster', cluster.ClusterArn!), ...associated.map((secretArn) => item(role, 'kafka:scram-association', `${cluster.ClusterArn}|${secretArn}`))]
  }))).flat()
  // MSK configurations (`msk acl --lock-down`'s; up makes none): no tags, so every one of the account counts.
  const configurations = async (role: Role): Promise<Item[]> => ((await clients[role].kafka.send(new ListConfigurationsCommand({}))).Configurations ?? [])
    .filter((c) => c.State !== 'DELETING').map((c) => item(role, 'kafka:configuration', c.Arn!))
  const perAccount = [keys, secrets, roles, destinations, rules, clusters, configurations, routes]
  const found = await Promise.all([peerings(), ingress(), ...(['iot', 'msk'] as const).flatMap((role) => perAccount.map((read) => read(role)))])
  return found.flat()
}

export interface LedgerRecord {
  step: string
  kind: string
  id: string
  account: Role
  attrs?: Record<string, string>
}

/** The stack's ledger records (none when the file is absent). */
export function ledgerRecords(cwd: string, stack: string): LedgerRecord[] {
  try {
    return (JSON.parse(readFileSync(join(cwd, '.iotctl', `${stack}.json`), 'utf8')) as {resources: LedgerRecord[]}).resources
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw error
  }
}

/** Sorted keys, for deepEqual messages that show what differs. */
export function keysOf(items: {account: string; kind: string; id: string}[]): string[] {
  return items.map(itemKey).sort()
}
