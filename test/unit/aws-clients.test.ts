// The narrow clients of src/lib/aws: lists come back whole through the SDK's
// paginators (each page's request with its own token), a labelled failure is an
// AwsError carrying the label, an unlabelled one is the SDK's own exception; and
// outside src/lib/aws no lib file sends SDK commands or pages by hand.
import assert from 'node:assert/strict'
import {readdirSync, readFileSync} from 'node:fs'
import {dirname, join, relative, resolve} from 'node:path'
import {test} from 'node:test'
import {fileURLToPath} from 'node:url'
import {DescribeRouteTablesCommand, EC2Client, EC2ServiceException} from '@aws-sdk/client-ec2'
import {IoTClient, ListThingPrincipalsCommand} from '@aws-sdk/client-iot'
import {mockClient} from 'aws-sdk-client-mock'
import ts from 'typescript'
import * as ec2api from '../../src/lib/aws/ec2.ts'
import * as iotapi from '../../src/lib/aws/iot.ts'
import {AwsError} from '../../src/lib/errors.ts'

const denied = () => new EC2ServiceException({name: 'UnauthorizedOperation', $fault: 'client', $metadata: {httpStatusCode: 403}, message: 'You are not authorized to perform this operation.'})

test('a list is every page, each requested with the token of the page before', async () => {
  const ec2 = mockClient(EC2Client)
  ec2.on(DescribeRouteTablesCommand)
    .resolvesOnce({RouteTables: [{RouteTableId: 'rtb-1'}], NextToken: 'page-2'})
    .resolvesOnce({RouteTables: [{RouteTableId: 'rtb-2'}, {RouteTableId: 'rtb-3'}], NextToken: 'page-3'})
    .resolvesOnce({RouteTables: [{RouteTableId: 'rtb-4'}]})
  const filters = [{Name: 'vpc-id', Values: ['vpc-1']}]
  const tables = await ec2api.describeAllRouteTables(new EC2Client({region: 'us-east-1'}), filters, 'listing route tables of vpc-1')
  assert.deepEqual(tables.map((t) => t.RouteTableId), ['rtb-1', 'rtb-2', 'rtb-3', 'rtb-4'])
  const requests = ec2.commandCalls(DescribeRouteTablesCommand).map((call) => call.args[0].input)
  assert.deepEqual(requests.map((input) => input.NextToken), [undefined, 'page-2', 'page-3'])
  assert.ok(requests.every((input) => input.Filters === filters))
  ec2.restore()
})

test('lowercase tokens (IoT) page the same way', async () => {
  const iot = mockClient(IoTClient)
  iot.on(ListThingPrincipalsCommand)
    .resolvesOnce({principals: ['arn:cert/1'], nextToken: 'n'})
    .resolvesOnce({principals: ['arn:cert/2']})
  assert.deepEqual(await iotapi.listAllThingPrincipals(new IoTClient({region: 'us-east-1'}), 'thing-1'), ['arn:cert/1', 'arn:cert/2'])
  assert.deepEqual(iot.commandCalls(ListThingPrincipalsCommand).map((call) => [call.args[0].input.thingName, call.args[0].input.nextToken]), [['thing-1', undefined], ['thing-1', 'n']])
  iot.restore()
})

test('a labelled failure is an AwsError (exit 1) whose step is the label; a page after the first fails the same way', async () => {
  const ec2 = mockClient(EC2Client)
  ec2.on(DescribeRouteTablesCommand).resolvesOnce({RouteTables: [{RouteTableId: 'rtb-1'}], NextToken: 'page-2'}).rejects(denied())
  const client = new EC2Client({region: 'us-east-1'})
  await assert.rejects(ec2api.describeAllRouteTables(client, [], 'listing route tables of vpc-1'), (error: unknown) => {
    assert.ok(error instanceof AwsError)
    assert.equal(error.step, 'listing route tables of vpc-1')
    assert.equal(error.code, 'UnauthorizedOperation')
    assert.equal(error.exitCode, 1)
    assert.equal(error.message, 'listing route tables of vpc-1: UnauthorizedOperation: You are not authorized to perform this operation.')
    return true
  })
  ec2.restore()
})

test('an unlabelled failure is the SDK exception itself, for callers that branch on its code', async () => {
  const ec2 = mockClient(EC2Client)
  ec2.on(DescribeRouteTablesCommand).rejects(denied())
  await assert.rejects(ec2api.describeRouteTables(new EC2Client({region: 'us-east-1'}), {RouteTableIds: ['rtb-1']}), (error: unknown) => {
    assert.ok(error instanceof EC2ServiceException)
    assert.ok(!(error instanceof AwsError))
    assert.equal(error.name, 'UnauthorizedOperation')
    return true
  })
  ec2.restore()
})

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
// The lead rewrites doctor; until then its two KMS reads send commands themselves.
const pending = new Set<string>()

function tsFiles(directory: string): string[] {
  return readdirSync(directory, {withFileTypes: true}).flatMap((entry) => {
    const path = join(directory, entry.name)
    if (entry.isDirectory()) return tsFiles(path)
    return entry.name.endsWith('.ts') ? [path] : []
  })
}

/** Values (not types) a file imports from an @aws-sdk/client-* package, statically or with import(). */
function sdkValueImports(file: string, source: string): string[] {
  const found: string[] = []
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier) && node.moduleSpecifier.text.startsWith('@aws-sdk/client-')) {
      const clause = node.importClause
      if (clause && !clause.isTypeOnly) {
        const bindings = clause.namedBindings
        if (clause.name || (bindings && ts.isNamespaceImport(bindings))) found.push(node.moduleSpecifier.text)
        if (bindings && ts.isNamedImports(bindings)) found.push(...bindings.elements.filter((e) => !e.isTypeOnly).map((e) => e.name.text))
      }
    }
    if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [specifier] = node.arguments
      if (specifier && ts.isStringLiteral(specifier) && specifier.text.startsWith('@aws-sdk/client-')) found.push(`import('${specifier.text}')`)
    }
    ts.forEachChild(node, visit)
  }
  visit(ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true))
  return found
}

test('outside src/lib/aws, lib imports SDK types only and pages with no loop of its own', () => {
  const offenders: string[] = []
  for (const path of tsFiles(join(root, 'src/lib'))) {
    const file = relative(root, path)
    if (file.startsWith('src/lib/aws/')) continue
    const source = readFileSync(path, 'utf8')
    if (!pending.has(file)) for (const name of sdkValueImports(file, source)) offenders.push(`${file}: imports ${name}`)
    if (/\bwhile\s*\(\s*(NextToken|nextToken|Marker|marker)\s*\)/.test(source)) offenders.push(`${file}: pages by hand`)
  }
  assert.deepEqual(offenders, [])
})
