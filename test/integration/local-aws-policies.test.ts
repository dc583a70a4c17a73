// The local AWS weighs policies where AWS does (issue 13): a VPC destination is
// ENABLED only when IoT may assume its role and the role may place the network
// interfaces; SimulatePrincipalPolicy answers from the same evaluator; the
// rules engine's get_secret asks canReadSecret; IoT policies and KMS key
// policies are refused when AWS refuses them. Each wrong request is refused
// and the right one accepted; `strictPolicies: false` turns the refusals off.
import assert from 'node:assert/strict'
import {after, before, describe, test} from 'node:test'
import {CreateRoleCommand, IAMClient, PutRolePolicyCommand, SimulatePrincipalPolicyCommand} from '@aws-sdk/client-iam'
import {CreatePolicyCommand, CreatePolicyVersionCommand, CreateTopicRuleDestinationCommand, GetTopicRuleDestinationCommand, IoTClient} from '@aws-sdk/client-iot'
import {CreateKeyCommand, KMSClient, PutKeyPolicyCommand} from '@aws-sdk/client-kms'
import {CreateSecretCommand, PutResourcePolicyCommand, SecretsManagerClient} from '@aws-sdk/client-secrets-manager'
import {startLocalAws, type LocalAws, type ProfileName} from '../support/local-aws/index.ts'
import {documentedVpcDestinationPolicy, INVALID_PRINCIPALS, PolicyEngine} from '../support/local-aws/policy/index.ts'

let aws: LocalAws
let IOT: string
let MSK: string

before(async () => {
  aws = await startLocalAws({destinationActivationDelayMs: 100})
  IOT = aws.accounts.iot
  MSK = aws.accounts.msk
})
after(() => aws?.stop())

function client<T>(Client: new (config: object) => T, profile: ProfileName): T {
  return new Client({...aws.clientConfig(profile), maxAttempts: 1})
}

async function rejectsWith(promise: Promise<unknown>, name: string): Promise<Error> {
  const error = await promise.then(
    () => assert.fail(`expected ${name}, got success`),
    (e: Error) => e,
  )
  assert.equal(error.name, name, `${error.name}: ${error.message}`)
  return error
}

const trustPolicy = (account: string) =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [{
      Effect: 'Allow',
      Principal: {Service: 'iot.amazonaws.com'},
      Action: 'sts:AssumeRole',
      Condition: {StringEquals: {'aws:SourceAccount': account}, ArnLike: {'aws:SourceArn': `arn:aws:iot:us-east-1:${account}:*`}},
    }],
  })

async function role(profile: ProfileName, name: string, policy: object | undefined, trust: string): Promise<string> {
  const iam = client(IAMClient, profile)
  const created = await iam.send(new CreateRoleCommand({RoleName: name, AssumeRolePolicyDocument: trust}))
  if (policy) await iam.send(new PutRolePolicyCommand({RoleName: name, PolicyName: 'permissions', PolicyDocument: JSON.stringify(policy)}))
  return created.Role!.Arn!
}

describe('VPC topic rule destinations', () => {
  let network: Awaited<ReturnType<LocalAws['createNetwork']>>
  const withoutCreateTags = {
    ...documentedVpcDestinationPolicy,
    Statement: documentedVpcDestinationPolicy.Statement.filter((s) => !JSON.stringify(s.Action).includes('ec2:CreateTags')),
  }

  before(async () => {
    network = await aws.createNetwork({name: 'policies'})
  })

  async function settle(roleArn: string, subnetIds = network.iot.subnetIds as string[]) {
    const iot = client(IoTClient, 'iot')
    const created = await iot.send(new CreateTopicRuleDestinationCommand({
      destinationConfiguration: {vpcConfiguration: {vpcId: network.iot.vpcId, subnetIds, securityGroups: [network.iot.securityGroupId], roleArn}},
    }))
    const arn = created.topicRuleDestination!.arn!
    for (;;) {
      const got = (await iot.send(new GetTopicRuleDestinationCommand({arn}))).topicRuleDestination!
      if (got.status !== 'IN_PROGRESS') return got
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }

  test('is ENABLED with the documented role policy and a trust policy naming the account', async () => {
    const arn = await role('iot', 'dest-documented', documentedVpcDestinationPolicy, trustPolicy(IOT))
    const destination = await settle(arn)
    assert.equal(destination.status, 'ENABLED', destination.statusReason)
  })

  test('ends in ERROR naming ec2:CreateTags when the role may not tag the interfaces it creates', async () => {
    const arn = await role('iot', 'dest-no-tags', withoutCreateTags, trustPolicy(IOT))
    const destination = await settle(arn)
    assert.equal(destination.status, 'ERROR')
    assert.match(destination.statusReason ?? '', /is not authorized to perform: ec2:CreateTags on resource: arn:aws:ec2:us-east-1:\d{12}:network-interface\/eni-/)
    assert.match(destination.statusReason ?? '', /because no identity-based policy allows the ec2:CreateTags action/)
  })

  test('ends in ERROR naming sts:AssumeRole when the trust policy is conditioned on another account', async () => {
    const arn = await role('iot', 'dest-wrong-account', documentedVpcDestinationPolicy, trustPolicy(MSK))
    const destination = await settle(arn)
    assert.equal(destination.status, 'ERROR')
    assert.match(destination.statusReason ?? '', new RegExp(`not authorized to perform: sts:AssumeRole on resource: ${arn.replace(/[/.]/g, '\\$&')}`))
  })

  test('is refused for a subnet in use1-az3, and accepted in the other zones', async () => {
    const zoned = await aws.createNetwork({name: 'az3', iot: {cidr: '10.40.0.0/16', availabilityZoneIds: ['use1-az1', 'use1-az3']}})
    assert.equal(zoned.iot.subnets[1].availabilityZone, 'us-east-1e')
    const arn = await role('iot', 'dest-az3', documentedVpcDestinationPolicy, trustPolicy(IOT))
    const iot = client(IoTClient, 'iot')
    const config = (subnetIds: string[]) => ({
      destinationConfiguration: {vpcConfiguration: {vpcId: zoned.iot.vpcId, subnetIds, securityGroups: [zoned.iot.securityGroupId], roleArn: arn}},
    })
    const refused = await rejectsWith(iot.send(new CreateTopicRuleDestinationCommand(config(zoned.iot.subnetIds))), 'InvalidRequestException')
    assert.match(refused.message, new RegExp(`${zoned.iot.subnetIds[1]}.*use1-az3`))
    const accepted = await iot.send(new CreateTopicRuleDestinationCommand(config([zoned.iot.subnetIds[0]])))
    assert.equal(accepted.topicRuleDestination?.status, 'IN_PROGRESS')
  })

  test('with strictPolicies off, neither the permissions nor the zone are checked', async () => {
    aws.settings.strictPolicies = false
    try {
      const arn = await role('iot', 'dest-lenient', withoutCreateTags, trustPolicy(MSK))
      const destination = await settle(arn)
      assert.equal(destination.status, 'ENABLED')
    } finally {
      aws.settings.strictPolicies = true
    }
  })
})

describe('iam:SimulatePrincipalPolicy', () => {
  let roleArn: string
  before(async () => {
    roleArn = await role('iot', 'simulated', {
      ...documentedVpcDestinationPolicy,
      Statement: [...documentedVpcDestinationPolicy.Statement, {Effect: 'Deny', Action: 'ec2:DeleteNetworkInterface', Resource: '*'}],
    }, trustPolicy(IOT))
  })

  test('answers each action with its decision and the statements that decided it', async () => {
    const eni = `arn:aws:ec2:us-east-1:${IOT}:network-interface/eni-0123456789abcdef0`
    const answer = await client(IAMClient, 'iot').send(new SimulatePrincipalPolicyCommand({
      PolicySourceArn: roleArn,
      ActionNames: ['ec2:CreateTags', 'ec2:DeleteNetworkInterface', 'ec2:DescribeSubnets', 'secretsmanager:GetSecretValue'],
      ResourceArns: [eni],
      ContextEntries: [
        {ContextKeyName: 'ec2:CreateAction', ContextKeyType: 'string', ContextKeyValues: ['CreateNetworkInterface']},
        {ContextKeyName: 'aws:RequestTag/VPCDestinationENI', ContextKeyType: 'string', ContextKeyValues: ['true']},
        {ContextKeyName: 'aws:TagKeys', ContextKeyType: 'stringList', ContextKeyValues: ['VPCDestinationENI']},
      ],
    }))
    const byAction = new Map(answer.EvaluationResults!.map((r) => [r.EvalActionName, r]))
    assert.equal(byAction.get('ec2:CreateTags')?.EvalDecision, 'allowed')
    assert.equal(byAction.get('ec2:CreateTags')?.EvalResourceName, eni)
    assert.deepEqual(byAction.get('ec2:CreateTags')?.MatchedStatements?.map((m) => [m.SourcePolicyId, m.SourcePolicyType]), [['permissions', 'role']])
    assert.equal(byAction.get('ec2:DeleteNetworkInterface')?.EvalDecision, 'explicitDeny')
    assert.equal(byAction.get('ec2:DescribeSubnets')?.EvalDecision, 'allowed')
    assert.equal(byAction.get('secretsmanager:GetSecretValue')?.EvalDecision, 'implicitDeny')
  })

  test('without the context keys CreateTags is implicitly denied; an unknown role is NoSuchEntity', async () => {
    const iam = client(IAMClient, 'iot')
    const answer = await iam.send(new SimulatePrincipalPolicyCommand({PolicySourceArn: roleArn, ActionNames: ['ec2:CreateTags'], ResourceArns: [`arn:aws:ec2:us-east-1:${IOT}:network-interface/eni-1`]}))
    assert.equal(answer.EvaluationResults?.[0]?.EvalDecision, 'implicitDeny')
    await rejectsWith(iam.send(new SimulatePrincipalPolicyCommand({PolicySourceArn: `arn:aws:iam::${IOT}:role/nobody`, ActionNames: ['ec2:CreateTags']})), 'NoSuchEntityException')
  })
})

describe('canReadSecret (get_secret as the rule role)', () => {
  let engine: PolicyEngine
  let keyArn: string
  let secretArn: string
  const rootDelegation = (account: string) => ({Sid: 'root', Effect: 'Allow', Principal: {AWS: `arn:aws:iam::${account}:root`}, Action: 'kms:*', Resource: '*'})

  before(async () => {
    engine = new PolicyEngine(aws.standIn.moto, {region: 'us-east-1', settings: aws.settings})
    const key = await client(KMSClient, 'iot').send(new CreateKeyCommand({Policy: JSON.stringify({Version: '2012-10-17', Statement: [rootDelegation(IOT)]})}))
    keyArn = key.KeyMetadata!.Arn!
    const secret = await client(SecretsManagerClient, 'iot').send(new CreateSecretCommand({Name: 'AmazonMSK_policies', SecretString: '{"username":"u","password":"p"}', KmsKeyId: keyArn}))
    secretArn = secret.ARN!
  })

  test('allows a role that may read the secret and decrypt with a key delegating to the account', async () => {
    const arn = await role('iot', 'reader', {
      Version: '2012-10-17',
      Statement: [
        {Effect: 'Allow', Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], Resource: secretArn},
        {Effect: 'Allow', Action: 'kms:Decrypt', Resource: keyArn, Condition: {StringEquals: {'kms:ViaService': 'secretsmanager.us-east-1.amazonaws.com'}}},
      ],
    }, trustPolicy(IOT))
    const decision = await engine.canReadSecret(arn, secretArn, 'us-east-1')
    assert.equal(decision.allowed, true, decision.reason)
  })

  test('denies a role without an IAM permission on the secret, naming GetSecretValue', async () => {
    const arn = await role('iot', 'no-iam', {Version: '2012-10-17', Statement: [{Effect: 'Allow', Action: 'kms:Decrypt', Resource: '*'}]}, trustPolicy(IOT))
    const decision = await engine.canReadSecret(arn, 'AmazonMSK_policies', 'us-east-1')
    assert.equal(decision.allowed, false)
    assert.equal(decision.reason, `User: ${arn} is not authorized to perform: secretsmanager:GetSecretValue on resource: ${secretArn} because no identity-based policy allows the secretsmanager:GetSecretValue action`)
  })

  test('denies decryption when the key policy names neither the role nor the account', async () => {
    const other = await client(KMSClient, 'iot').send(new CreateKeyCommand({
      Policy: JSON.stringify({Version: '2012-10-17', Statement: [{Sid: 'admin', Effect: 'Allow', Principal: {AWS: `arn:aws:iam::${IOT}:role/iotctl-admin`}, Action: 'kms:*', Resource: '*'}]}),
    }))
    const secret = await client(SecretsManagerClient, 'iot').send(new CreateSecretCommand({Name: 'AmazonMSK_locked', SecretString: 'x', KmsKeyId: other.KeyMetadata!.KeyId!}))
    const arn = await role('iot', 'locked-out', {
      Version: '2012-10-17',
      Statement: [{Effect: 'Allow', Action: ['secretsmanager:GetSecretValue', 'kms:Decrypt'], Resource: '*'}],
    }, trustPolicy(IOT))
    const decision = await engine.canReadSecret(arn, secret.ARN!, 'us-east-1')
    assert.equal(decision.allowed, false)
    assert.match(decision.reason, new RegExp(`not authorized to perform: kms:Decrypt on resource: ${other.KeyMetadata!.Arn!.replace(/[/.]/g, '\\$&')} because no resource-based policy allows the kms:Decrypt action`))
  })

  test('the default aws/secretsmanager key serves the account; another account needs the resource policy and a key naming it', async () => {
    const plain = await client(SecretsManagerClient, 'iot').send(new CreateSecretCommand({Name: 'AmazonMSK_default_key', SecretString: 'x'}))
    const sameAccount = await role('iot', 'default-key-reader', {Version: '2012-10-17', Statement: [{Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: '*'}]}, trustPolicy(IOT))
    assert.equal((await engine.canReadSecret(sameAccount, plain.ARN!, 'us-east-1')).allowed, true)

    // The secret in the MSK account, read by a role of the IoT account (what iotctl's rule does).
    const crossRole = await role('iot', 'cross-reader', {
      Version: '2012-10-17',
      Statement: [{Effect: 'Allow', Action: ['secretsmanager:GetSecretValue', 'kms:Decrypt'], Resource: '*'}],
    }, trustPolicy(IOT))
    const mskKey = await client(KMSClient, 'msk').send(new CreateKeyCommand({
      Policy: JSON.stringify({Version: '2012-10-17', Statement: [
        rootDelegation(MSK),
        {Sid: 'iot', Effect: 'Allow', Principal: {AWS: crossRole}, Action: 'kms:Decrypt', Resource: '*', Condition: {StringEquals: {'kms:ViaService': 'secretsmanager.us-east-1.amazonaws.com'}}},
      ]}),
    }))
    const sm = client(SecretsManagerClient, 'msk')
    const mskSecret = await sm.send(new CreateSecretCommand({Name: 'AmazonMSK_cross', SecretString: 'x', KmsKeyId: mskKey.KeyMetadata!.Arn!}))
    const withoutResourcePolicy = await engine.canReadSecret(crossRole, mskSecret.ARN!, 'us-east-1')
    assert.equal(withoutResourcePolicy.allowed, false)
    assert.match(withoutResourcePolicy.reason, /secretsmanager:GetSecretValue .* because no resource-based policy allows/)
    await sm.send(new PutResourcePolicyCommand({
      SecretId: mskSecret.ARN!,
      ResourcePolicy: JSON.stringify({Version: '2012-10-17', Statement: [{Effect: 'Allow', Principal: {AWS: crossRole}, Action: 'secretsmanager:GetSecretValue', Resource: '*'}]}),
    }))
    const decision = await engine.canReadSecret(crossRole, mskSecret.ARN!, 'us-east-1')
    assert.equal(decision.allowed, true, decision.reason)
  })
})

describe('IoT policy documents', () => {
  const iot = () => client(IoTClient, 'iot')
  const deviceStatement = {Effect: 'Allow', Action: ['iot:Connect'], Resource: [`arn:aws:iot:us-east-1:123456789012:client/\${iot:Connection.Thing.ThingName}`]}

  test('an unknown IoT action or a resource that is no IoT ARN is MalformedPolicyException; a device policy is accepted', async () => {
    const bad = JSON.stringify({Version: '2012-10-17', Statement: [{Effect: 'Allow', Action: 'iot:NoSuch', Resource: '*'}]})
    const error = await rejectsWith(iot().send(new CreatePolicyCommand({policyName: 'bad-action', policyDocument: bad})), 'MalformedPolicyException')
    assert.match(error.message, /iot:NoSuch/)
    const garbage = JSON.stringify({Version: '2012-10-17', Statement: [{Effect: 'Allow', Action: 'iot:Publish', Resource: 'garbage'}]})
    await rejectsWith(iot().send(new CreatePolicyCommand({policyName: 'bad-resource', policyDocument: garbage})), 'MalformedPolicyException')
    await rejectsWith(iot().send(new CreatePolicyCommand({policyName: 'not-json', policyDocument: '{'})), 'MalformedPolicyException')

    const good = JSON.stringify({Version: '2012-10-17', Statement: [deviceStatement, {Effect: 'Allow', Action: ['iot:Publish', 'iot:Receive'], Resource: '*'}]})
    const created = await iot().send(new CreatePolicyCommand({policyName: 'device', policyDocument: good}))
    assert.equal(created.policyName, 'device')
    await rejectsWith(iot().send(new CreatePolicyVersionCommand({policyName: 'device', policyDocument: garbage})), 'MalformedPolicyException')
    const wildcard = JSON.stringify({Version: '2012-10-17', Statement: [{Effect: 'Allow', Action: 'iot:*', Resource: 'arn:aws:iot:*:*:topic/*'}]})
    assert.ok((await iot().send(new CreatePolicyVersionCommand({policyName: 'device', policyDocument: wildcard}))).policyVersionId)
  })
})

describe('KMS key policy principals', () => {
  test('a role that does not exist is an invalid principal; roots, service principals and existing roles of either account are not', async () => {
    const kms = client(KMSClient, 'msk')
    const policy = (principal: object) => JSON.stringify({Version: '2012-10-17', Statement: [
      {Sid: 'root', Effect: 'Allow', Principal: {AWS: `arn:aws:iam::${MSK}:root`}, Action: 'kms:*', Resource: '*'},
      {Sid: 'use', Effect: 'Allow', Principal: principal, Action: 'kms:Decrypt', Resource: '*'},
    ]})
    const missing = {AWS: `arn:aws:iam::${IOT}:role/not-created-yet`}
    const error = await rejectsWith(kms.send(new CreateKeyCommand({Policy: policy(missing)})), 'MalformedPolicyDocumentException')
    assert.equal(error.message, INVALID_PRINCIPALS)

    const existing = await role('iot', 'key-user', undefined, trustPolicy(IOT))
    const key = await kms.send(new CreateKeyCommand({Policy: policy({AWS: existing})}))
    const keyId = key.KeyMetadata!.KeyId!
    await rejectsWith(kms.send(new PutKeyPolicyCommand({KeyId: keyId, Policy: policy(missing)})), 'MalformedPolicyDocumentException')
    await kms.send(new PutKeyPolicyCommand({KeyId: keyId, Policy: policy({Service: 'secretsmanager.amazonaws.com'})}))
    await kms.send(new PutKeyPolicyCommand({KeyId: keyId, Policy: policy({AWS: [`arn:aws:iam::${IOT}:root`, IOT, existing]})}))

    aws.settings.strictPolicies = false
    try {
      await kms.send(new PutKeyPolicyCommand({KeyId: keyId, Policy: policy(missing)}))
    } finally {
      aws.settings.strictPolicies = true
    }
  })
})
