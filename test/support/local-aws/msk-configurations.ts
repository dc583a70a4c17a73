// MSK configurations, which moto 5.2.5 does not serve (MSK API reference,
// "Configurations" and "Configuration"; https://docs.aws.amazon.com/msk/1.0/apireference/configurations.html):
// CreateConfiguration, DescribeConfiguration, DescribeConfigurationRevision,
// ListConfigurations, DeleteConfiguration — per account and region, with MSK's
// refusals:
// - a name that does not match ^[0-9A-Za-z][0-9A-Za-z-]{0,}$ (AWS::MSK::Configuration, Name) → 400 `name`;
//   a name already used in the account and region → ConflictException 409;
// - serverProperties that is not base64 of `key=value` lines, or a value of
//   allow.everyone.if.no.acl.found other than true/false → 400 `serverProperties`;
//   kafkaVersions not among MSK's versions → 400 `kafkaVersions`;
// - DeleteConfiguration of a configuration a cluster uses → 400 (MSK refuses while
//   any cluster, DELETING included, names it); of an unknown ARN → NotFoundException 404.
// CreateCluster's ConfigurationInfo is checked by `check`: the ARN must be a
// configuration of the caller's account and region, not DELETING, and the revision
// one of its revisions (400 `configurationInfo`).
import {randomUUID} from 'node:crypto'
import {AwsServiceError, jsonReply} from './aws-errors.ts'
import type {CallContext, Handler} from './context.ts'
import {mskKafkaVersions, mskPage} from './msk-strict.ts'

interface Revision {
  revision: number
  creationTime: string
  description?: string
  /** base64, as sent. */
  serverProperties: string
}

interface StoredConfiguration {
  arn: string
  account: string
  region: string
  name: string
  description: string
  kafkaVersions: string[]
  creationTime: string
  revisions: Revision[]
}

const NAME = /^[0-9A-Za-z][0-9A-Za-z-]{0,}$/
const PROPERTY = /^\s*([A-Za-z0-9._-]+)\s*[=:]\s*(.*?)\s*$/

const badRequest = (message: string, parameter: string): AwsServiceError => new AwsServiceError('BadRequestException', 400, message, {invalidParameter: parameter})
const notFound = (arn: string): AwsServiceError => new AwsServiceError('NotFoundException', 404, `The specified configuration was not found: ${arn}`, {invalidParameter: 'arn'})

/** The properties of a server.properties text (comments and blank lines skipped); throws on a line that is not key=value. */
export function parseServerProperties(text: string): Map<string, string> {
  const properties = new Map<string, string>()
  for (const [i, line] of text.split(/\r?\n/).entries()) {
    if (/^\s*(#|!|$)/.test(line)) continue
    const match = PROPERTY.exec(line)
    if (!match) throw badRequest(`serverProperties line ${i + 1} is not key=value: ${line.slice(0, 80)}`, 'serverProperties')
    properties.set(match[1], match[2])
  }
  return properties
}

export class MskConfigurations {
  readonly #byArn = new Map<string, StoredConfiguration>()
  /** Which configuration each live cluster was created with. */
  readonly #clusterConfigurations = new Map<string, string>()

  reset(): void {
    this.#byArn.clear()
    this.#clusterConfigurations.clear()
  }

  handlers(): Record<string, Handler> {
    return {
      CreateConfiguration: async (c) => this.#create(c),
      DescribeConfiguration: async (c) => jsonReply('rest-json', view(this.#find(c, c.facts.uriParams.arn))),
      DescribeConfigurationRevision: async (c) => this.#describeRevision(c),
      ListConfigurations: async (c) => this.#list(c),
      DeleteConfiguration: async (c) => this.#delete(c),
    }
  }

  /**
   * CreateCluster's ConfigurationInfo, before moto sees the request: the configuration must
   * exist in the caller's account and region with that revision and allow the Kafka version.
   * Returns whether it sets allow.everyone.if.no.acl.found=false.
   */
  check(c: CallContext, info: unknown, kafkaVersion: unknown): {arn: string; deniesWithoutAcl: boolean} | undefined {
    if (info === undefined || info === null) return undefined
    const {arn, revision} = info as {arn?: unknown; revision?: unknown}
    const configuration = this.#byArn.get(String(arn))
    if (configuration?.account !== c.account || configuration.region !== c.region) {
      throw badRequest(`The configuration ${String(arn)} does not exist in this account and Region.`, 'configurationInfo')
    }
    const chosen = configuration.revisions.find((r) => r.revision === Number(revision))
    if (!chosen) throw badRequest(`Revision ${String(revision)} of configuration ${configuration.name} does not exist.`, 'configurationInfo')
    if (configuration.kafkaVersions.length > 0 && !configuration.kafkaVersions.includes(String(kafkaVersion))) {
      throw badRequest(`Configuration ${configuration.name} cannot be used with Apache Kafka ${String(kafkaVersion)}; it supports ${configuration.kafkaVersions.join(', ')}.`, 'configurationInfo')
    }
    const properties = parseServerProperties(Buffer.from(chosen.serverProperties, 'base64').toString('utf8'))
    return {arn: configuration.arn, deniesWithoutAcl: properties.get('allow.everyone.if.no.acl.found')?.toLowerCase() === 'false'}
  }

  clusterCreated(clusterArn: string, configurationArn: string): void {
    this.#clusterConfigurations.set(clusterArn, configurationArn)
  }

  clusterDeleted(clusterArn: string): void {
    this.#clusterConfigurations.delete(clusterArn)
  }

  #find(c: CallContext, arn: string | undefined): StoredConfiguration {
    const configuration = this.#byArn.get(String(arn))
    if (configuration?.account !== c.account || configuration.region !== c.region) throw notFound(String(arn))
    return configuration
  }

  async #create(c: CallContext) {
    const name = String(c.input.name ?? '')
    if (!NAME.test(name)) throw badRequest(`The configuration name ${name} is not valid: use letters, digits and hyphens, starting with a letter or digit.`, 'name')
    const encoded = String(c.input.serverProperties ?? '')
    const decoded = Buffer.from(encoded, 'base64')
    if (decoded.length === 0 || decoded.toString('base64').replace(/=+$/, '') !== encoded.replace(/=+$/, '')) {
      throw badRequest('serverProperties must be the base64-encoded contents of a server.properties file.', 'serverProperties')
    }
    const properties = parseServerProperties(decoded.toString('utf8'))
    const allowEveryone = properties.get('allow.everyone.if.no.acl.found')
    if (allowEveryone !== undefined && !/^(true|false)$/i.test(allowEveryone)) {
      throw badRequest(`allow.everyone.if.no.acl.found must be true or false, not ${allowEveryone}.`, 'serverProperties')
    }
    const kafkaVersions = Array.isArray(c.input.kafkaVersions) ? c.input.kafkaVersions.map(String) : []
    const unknown = kafkaVersions.find((v) => !mskKafkaVersions.has(v))
    if (unknown !== undefined) throw badRequest(`Unsupported KafkaVersion [${unknown}]. Valid values: ${[...mskKafkaVersions].join(', ')}.`, 'kafkaVersions')
    for (const other of this.#byArn.values()) {
      if (other.account === c.account && other.region === c.region && other.name === name) {
        throw new AwsServiceError('ConflictException', 409, `A configuration with the name ${name} already exists.`, {invalidParameter: 'name'})
      }
    }
    const creationTime = new Date(c.now()).toISOString()
    const description = typeof c.input.description === 'string' ? c.input.description : ''
    const configuration: StoredConfiguration = {
      arn: `arn:aws:kafka:${c.region}:${c.account}:configuration/${name}/${randomUUID()}-1`,
      account: c.account,
      region: c.region,
      name,
      description,
      kafkaVersions,
      creationTime,
      revisions: [{revision: 1, creationTime, description, serverProperties: encoded}],
    }
    this.#byArn.set(configuration.arn, configuration)
    return jsonReply('rest-json', {arn: configuration.arn, creationTime, latestRevision: latest(configuration), name, state: 'ACTIVE'})
  }

  async #describeRevision(c: CallContext) {
    const configuration = this.#find(c, c.facts.uriParams.arn)
    const revision = configuration.revisions.find((r) => r.revision === Number(c.facts.uriParams.revision))
    if (!revision) throw new AwsServiceError('NotFoundException', 404, `Revision ${c.facts.uriParams.revision} of configuration ${configuration.arn} was not found.`, {invalidParameter: 'revision'})
    return jsonReply('rest-json', {arn: configuration.arn, creationTime: revision.creationTime, description: revision.description, revision: revision.revision, serverProperties: revision.serverProperties})
  }

  async #list(c: CallContext) {
    const page = mskPage(c, [...this.#byArn.values()].filter((x) => x.account === c.account && x.region === c.region))
    return jsonReply('rest-json', {configurations: page.items.map(view), ...(page.nextToken ? {nextToken: page.nextToken} : {})})
  }

  async #delete(c: CallContext) {
    const configuration = this.#find(c, c.facts.uriParams.arn)
    const user = [...this.#clusterConfigurations].find(([, arn]) => arn === configuration.arn)?.[0]
    if (user) throw badRequest(`The configuration ${configuration.arn} is in use by cluster ${user}. Delete the cluster or update its configuration first.`, 'arn')
    this.#byArn.delete(configuration.arn)
    return jsonReply('rest-json', {arn: configuration.arn, state: 'DELETING'})
  }
}

function latest(configuration: StoredConfiguration): {creationTime: string; description: string; revision: number} {
  const last = configuration.revisions.at(-1)!
  return {creationTime: last.creationTime, description: last.description ?? '', revision: last.revision}
}

function view(configuration: StoredConfiguration): Record<string, unknown> {
  return {
    arn: configuration.arn,
    creationTime: configuration.creationTime,
    description: configuration.description,
    kafkaVersions: configuration.kafkaVersions,
    latestRevision: latest(configuration),
    name: configuration.name,
    state: 'ACTIVE',
  }
}
