// Request-level: doctor asks IAM itself (iam:SimulatePrincipalPolicy) whether
// the role may do what the VPC destination and get_secret do, with the context
// keys the documented policy conditions on; a policy narrowed by hand shows as
// the denied action with its fix.
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {GetRoleCommand, IAMClient, SimulatePrincipalPolicyCommand, type SimulatePrincipalPolicyCommandInput} from '@aws-sdk/client-iam'
import {mockClient} from 'aws-sdk-client-mock'
import {checkDefinitions} from '../../src/lib/doctor/index.ts'
import type {Registry} from '../../src/lib/doctor/registry.ts'
import {testContext} from '../support/step-context.ts'

const B = '222222222222'
const roleArn = `arn:aws:iam::${B}:role/iotctl-demo-iot-to-msk`
const secretArn = `arn:aws:secretsmanager:us-east-1:${B}:secret:AmazonMSK_demo-AbCdEf`
const interfaces = `arn:aws:ec2:us-east-1:${B}:network-interface/*`
const check = checkDefinitions.find((c) => c.id === 'role-permissions')!

/** IAM's simulator, narrowed: `decide` gives the decision per action of a request. */
function setup(decide: (action: string, input: SimulatePrincipalPolicyCommandInput) => string = () => 'allowed', errorTopic?: string) {
  const iam = new IAMClient({})
  const mock = mockClient(iam)
  mock.on(GetRoleCommand).resolves({Role: {RoleName: 'iotctl-demo-iot-to-msk', Arn: roleArn, Path: '/', RoleId: 'AROA1', CreateDate: new Date()}})
  mock.on(SimulatePrincipalPolicyCommand).callsFake((input: SimulatePrincipalPolicyCommandInput) => ({
    IsTruncated: false,
    EvaluationResults: (input.ActionNames ?? []).map((action) => ({EvalActionName: action, EvalResourceName: input.ResourceArns?.[0], EvalDecision: decide(action, input)})),
  }))
  const ctx = testContext({settings: {stack: 'demo', ...(errorTopic ? {rule: {errorTopic}} : {})}, iot: {accountId: B, clients: {iam}}, msk: {accountId: '111111111111'}})
  const registry: Registry = {
    observed: new Map([['secret:iot', {resources: [{step: 'secret:iot', kind: 'secretsmanager:secret', id: secretArn, account: 'iot', accountId: B, region: 'us-east-1'}], missing: []}]]),
    problems: new Map(),
  }
  return {ctx, registry, mock}
}

function requests(mock: ReturnType<typeof setup>['mock']) {
  return mock.commandCalls(SimulatePrincipalPolicyCommand).map((c) => {
    const input = c.args[0].input
    return {
      source: input.PolicySourceArn,
      actions: input.ActionNames,
      resources: input.ResourceArns,
      context: Object.fromEntries((input.ContextEntries ?? []).map((e) => [e.ContextKeyName, `${e.ContextKeyType}:${e.ContextKeyValues?.join(',')}`])),
    }
  })
}

test('the destination\'s actions with their context keys and get_secret on the secret, simulated as the role: all allowed passes', async () => {
  const {ctx, registry, mock} = setup()
  const verdict = await check.run(ctx, registry)
  assert.equal(verdict.status, 'pass', verdict.detail)
  assert.equal(verdict.detail, `IAM allows iotctl-demo-iot-to-msk the 9 EC2 calls of the VPC destination (with their VPCDestinationENI conditions) and get_secret on ${secretArn}`)
  assert.deepEqual(requests(mock), [
    {source: roleArn, resources: ['*'], context: {}, actions: [
      'ec2:CreateNetworkInterface', 'ec2:DescribeNetworkInterfaces', 'ec2:DescribeVpcs', 'ec2:DeleteNetworkInterface',
      'ec2:DescribeSubnets', 'ec2:DescribeVpcAttribute', 'ec2:DescribeSecurityGroups',
    ]},
    {source: roleArn, resources: [interfaces], actions: ['ec2:CreateNetworkInterfacePermission'], context: {'ec2:ResourceTag/VPCDestinationENI': 'string:true'}},
    {source: roleArn, resources: [interfaces], actions: ['ec2:CreateTags'], context: {'ec2:CreateAction': 'string:CreateNetworkInterface', 'aws:RequestTag/VPCDestinationENI': 'string:true'}},
    {source: roleArn, resources: [secretArn], actions: ['secretsmanager:GetSecretValue'], context: {}},
  ])
})

test('a policy narrowed by hand (no ec2:CreateTags): the check fails naming the action and its context, with `iotctl iot role` as the fix', async () => {
  const {ctx, registry} = setup((action) => (action === 'ec2:CreateTags' ? 'implicitDeny' : 'allowed'))
  const verdict = await check.run(ctx, registry)
  assert.deepEqual(verdict, {
    status: 'fail',
    detail: `IAM denies iotctl-demo-iot-to-msk ec2:CreateTags (ec2:CreateAction=CreateNetworkInterface, aws:RequestTag/VPCDestinationENI=true) on ${interfaces} (implicitDeny)`,
    hint: 'run `iotctl iot role` (or `iotctl up`): it re-applies the inline policy iotctl-vpc-destination-and-secret',
  })
})

test('an explicit Deny on get_secret and a missing error-topic grant: both named; the fix says the Deny is not iotctl\'s to remove', async () => {
  const {ctx, registry, mock} = setup((action) => (action === 'secretsmanager:GetSecretValue' ? 'explicitDeny' : action === 'iot:Publish' ? 'implicitDeny' : 'allowed'), 'iotctl/errors')
  const verdict = await check.run(ctx, registry)
  assert.equal(verdict.status, 'fail')
  assert.equal(verdict.detail, `IAM denies iotctl-demo-iot-to-msk secretsmanager:GetSecretValue on ${secretArn} (explicitDeny); iot:Publish on arn:aws:iot:us-east-1:${B}:topic/iotctl/errors (implicitDeny)`)
  assert.match(verdict.hint ?? '', /re-applies the inline policy iotctl-vpc-destination-and-secret, but remove the explicit Deny \(another policy or a permissions boundary\) yourself/)
  assert.deepEqual(requests(mock).at(-1), {source: roleArn, resources: [`arn:aws:iot:us-east-1:${B}:topic/iotctl/errors`], actions: ['iot:Publish'], context: {}})
})
