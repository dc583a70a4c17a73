// The emulated AWS IoT rules engine: for every message the local data plane
// accepts, each ENABLED rule of the publisher's account whose FROM filter
// matches runs its SQL and its actions (Apache Kafka, republish); when an
// action fails, the rule's error action gets the failure document AWS sends
// (IoT developer guide, Error handling (error action): one message per rule and
// message, with ruleName, topic, cloudwatchTraceId, clientId,
// base64OriginalPayload and failures [{failedAction, failedResource, errorMessage}]).
// Rules are read from moto (ListTopicRules/GetTopicRule) and cached per account
// and region until the stand-in reports a change.
// Basic Ingest (IoT developer guide, "Reducing messaging costs with Basic Ingest"):
// a message on `$aws/rules/<rule_name>/<topic>` goes to that rule only, which sees
// `<topic>` (its FROM filter matched against it, topic() without the prefix); one
// naming a rule that does not exist or is disabled is an error log entry
// (RuleNotFound), as AWS logs it. The S3 action writes to moto's S3 as the rule's
// role (s3:PutObject on the object's ARN, "S3 action").
import {randomUUID} from 'node:crypto'
import type {MotoClient} from '../moto-client.ts'
import {evaluateArguments, evaluateRule, parsePayload, renderTemplate, RuleEvaluationError, type RuleMessage, type SecretValues, type TemplatePart} from './evaluate.ts'
import {clientConfig, KafkaActionError, KafkaProducers, type KafkaAccess} from './kafka-action.ts'
import {callsOf, type Expr, type RuleQuery} from './sql.ts'
import {parseActionTemplates, parseStatement, templateFields} from './validate.ts'

/** What the data plane reports for each accepted publish. */
export interface PublishedMessage {
  account: string
  region: string
  topic: string
  payload: Buffer
  clientId?: string
  principal?: string
}

/** The local IoT data plane as the rules engine uses it (slice iotdata). */
export interface DataPlane {
  onPublish(listener: (message: PublishedMessage) => void): unknown
  publish(account: string, region: string, topic: string, payload: Buffer): unknown
}

export interface Decision {
  allowed: boolean
  reason: string
}

/** IAM evaluation as a role (slice policy's PolicyEngine). */
export interface RoleAuthorizer {
  canReadSecret(roleArn: string, secretIdOrArn: string, region: string): Promise<Decision>
  roleMay?(roleArn: string, action: string, resource: string, context?: Record<string, string | string[]>): Promise<Decision>
}

export interface DestinationView {
  destination(arn: string): {status: string; account: string; region: string} | undefined
}

export interface RuleError {
  time: string
  account: string
  region: string
  ruleName: string
  topic: string
  clientId?: string
  /** 'sql': the statement could not run on the message; 'action': an action failed (the error action ran);
   *  'errorAction': the error action itself failed. */
  stage: 'sql' | 'action' | 'errorAction'
  failedAction?: string
  failedResource?: string
  errorMessage: string
}

interface CompiledRule {
  name: string
  arn: string
  query: RuleQuery
  actions: CompiledAction[]
  errorAction?: CompiledAction
}

interface CompiledAction {
  kind: string
  body: Record<string, unknown>
  /** Every string field by its path ('topic', 'clientProperties.sasl.scram.password', 'headers[0].value'). */
  fields: Map<string, string>
  templates: Map<string, TemplatePart[]>
}

export interface RulesEngineOptions {
  moto: MotoClient
  destinations: DestinationView
  /** Entries kept in the error log (oldest dropped). */
  maxErrors?: number
}

class ActionFailure extends Error {
  readonly failedAction: string
  readonly failedResource: string
  constructor(failedAction: string, failedResource: string, message: string) {
    super(message)
    this.failedAction = failedAction
    this.failedResource = failedResource
  }
}

export class RulesEngine {
  readonly #moto: MotoClient
  readonly #destinations: DestinationView
  readonly #maxErrors: number
  readonly #rules = new Map<string, Promise<CompiledRule[]>>()
  readonly #errors: RuleError[] = []
  readonly #inFlight = new Set<Promise<void>>()
  readonly #producers: KafkaProducers
  readonly #secretCache = new Map<string, {value: string; until: number}>()
  /**
   * How long a secret read by get_secret is reused (AWS: up to 15 minutes, IoT SQL
   * reference, get_secret). Default 0: every message reads again, so tests see
   * changes at once; a benchmark may raise it.
   */
  secretCacheMs = 0
  #dataPlane?: DataPlane
  #kafka?: KafkaAccess
  #authorizer?: RoleAuthorizer

  constructor(options: RulesEngineOptions) {
    this.#moto = options.moto
    this.#destinations = options.destinations
    this.#maxErrors = options.maxErrors ?? 200
    this.#producers = new KafkaProducers(() => this.#kafka)
  }

  /** Listens to the data plane's publishes and republishes through it. */
  attachDataPlane(dataPlane: DataPlane): void {
    this.#dataPlane = dataPlane
    // Fire and forget: process() never rejects and keeps its promise in #inFlight for reset() to await.
    dataPlane.onPublish((message) => void this.process(message))
  }

  attachKafka(kafka: KafkaAccess | undefined): void {
    this.#kafka = kafka
  }

  attachAuthorizer(authorizer: RoleAuthorizer | undefined): void {
    this.#authorizer = authorizer
  }

  /**
   * Before a rule change is applied: rules still being read for messages that
   * arrived before it finish reading first, so those messages meet the rules
   * as they were when they arrived (a message published while a rule was
   * disabled is not run by it because the enable came in during the read).
   */
  async beforeRulesChange(account: string, region: string): Promise<void> {
    await this.#rules.get(`${account}/${region}`)?.catch(() => undefined)
  }

  /** A rule of this account and region was created, replaced, deleted, enabled or disabled. */
  rulesChanged(account: string, region: string): void {
    this.#rules.delete(`${account}/${region}`)
  }

  errors(): RuleError[] {
    return [...this.#errors]
  }

  clearErrors(): void {
    this.#errors.length = 0
  }

  /** Settles once every message handed to the engine so far has run through its rules. */
  async idle(): Promise<void> {
    while (this.#inFlight.size) await Promise.allSettled([...this.#inFlight])
  }

  async reset(): Promise<void> {
    this.#rules.clear()
    this.#secretCache.clear()
    this.clearErrors()
    await this.#producers.closeAll()
  }

  close(): Promise<void> {
    return this.reset()
  }

  /** Runs every matching rule on one message (what onPublish delivers); never throws. */
  process(message: PublishedMessage): Promise<void> {
    const running = this.#process(message).catch((error: Error) => {
      this.#record({account: message.account, region: message.region, ruleName: '', topic: message.topic, clientId: message.clientId, stage: 'sql', errorMessage: `rules engine: ${error.message}`})
    })
    this.#inFlight.add(running)
    void running.finally(() => this.#inFlight.delete(running))
    return running
  }

  async #process(published: PublishedMessage): Promise<void> {
    let rules = await this.#rulesOf(published.account, published.region)
    let topic = published.topic
    const ingest = basicIngest.exec(topic)
    if (ingest) {
      rules = rules.filter((r) => r.name === ingest[1])
      topic = ingest[2]
      if (rules.length === 0) {
        this.#record({account: published.account, region: published.region, ruleName: ingest[1], topic: published.topic, clientId: published.clientId, stage: 'sql', errorMessage: `RuleNotFound: the Basic Ingest topic names rule ${ingest[1]}, which does not exist or is disabled`})
        return
      }
    } else if (topic.startsWith('$aws/rules/')) {
      return
    }
    const message: RuleMessage = {
      topic,
      payload: published.payload,
      clientId: published.clientId,
      principal: published.principal,
      account: published.account,
      timestamp: Date.now(),
      traceId: randomUUID(),
    }
    await Promise.all(rules.map((rule) => this.#runRule(rule, message, published.region)))
  }

  async #runRule(rule: CompiledRule, message: RuleMessage, region: string): Promise<void> {
    let outcome
    try {
      outcome = evaluateRule(rule.query, message)
    } catch (error) {
      if (!(error instanceof RuleEvaluationError)) throw error
      // SQL errors go to CloudWatch logs on AWS, not to the error action.
      this.#record({account: message.account, region, ruleName: rule.name, topic: message.topic, clientId: message.clientId, stage: 'sql', errorMessage: error.message})
      return
    }
    if (!outcome.matched) return
    const output = outcome.output
    const failures: ActionFailure[] = []
    await Promise.all(
      rule.actions.map(async (action) => {
        try {
          await this.#runAction(action, rule, {...message}, output, region)
        } catch (error) {
          failures.push(error instanceof ActionFailure ? error : new ActionFailure(actionName(action.kind), '', (error as Error).message))
        }
      }),
    )
    if (!failures.length) return
    for (const f of failures) {
      this.#record({account: message.account, region, ruleName: rule.name, topic: message.topic, clientId: message.clientId, stage: 'action', failedAction: f.failedAction, failedResource: f.failedResource, errorMessage: f.message})
    }
    if (!rule.errorAction) return
    const document = {
      ruleName: rule.name,
      topic: message.topic,
      cloudwatchTraceId: randomUUID(),
      clientId: message.clientId ?? 'n/a',
      base64OriginalPayload: message.payload.toString('base64'),
      failures: failures.map((f) => ({failedAction: f.failedAction, failedResource: f.failedResource, errorMessage: f.message})),
    }
    const payload = Buffer.from(JSON.stringify(document))
    try {
      await this.#runAction(rule.errorAction, rule, {...message, payload}, payload, region)
    } catch (error) {
      const f = error instanceof ActionFailure ? error : new ActionFailure(actionName(rule.errorAction.kind), '', (error as Error).message)
      this.#record({account: message.account, region, ruleName: rule.name, topic: message.topic, clientId: message.clientId, stage: 'errorAction', failedAction: f.failedAction, failedResource: f.failedResource, errorMessage: f.message})
    }
  }

  async #runAction(action: CompiledAction, rule: CompiledRule, message: RuleMessage, output: Buffer, region: string): Promise<void> {
    if (action.kind === 'kafka') return this.#kafkaAction(action, message, output, region)
    if (action.kind === 'republish') return this.#republishAction(action, rule, message, output, region)
    if (action.kind === 's3') return this.#s3Action(action, message, output, region)
    throw new ActionFailure(actionName(action.kind), '', `The local rules engine does not run ${action.kind} actions`)
  }

  /** A string field after substitution (`${…}` evaluated against the message, get_secret resolved as its role). */
  async #field(action: CompiledAction, path: string, message: RuleMessage, region: string, failedAction: string, failedResource: string): Promise<string | undefined> {
    const raw = action.fields.get(path)
    if (raw === undefined) return undefined
    const parts = action.templates.get(path)
    if (!parts) return raw
    const secrets: SecretValues = new Map()
    for (const part of parts) {
      if (!('expr' in part)) continue
      for (const call of callsOf(part.expr, 'get_secret')) {
        secrets.set(call, await this.#getSecret(call, message, region, failedAction, failedResource))
      }
    }
    return renderTemplate(parts, message, secrets)
  }

  /**
   * get_secret(secretId, secretType[, key], roleArn) read as the role: only if
   * IAM and the secret's KMS key allow it (slice policy), then from moto's
   * Secrets Manager (IoT SQL reference, get_secret).
   */
  async #getSecret(call: Extract<Expr, {kind: 'call'}>, message: RuleMessage, region: string, failedAction: string, failedResource: string): Promise<string> {
    const args = evaluateArguments(call, message).map((a) => (a === undefined || a === null ? undefined : String(a)))
    const [secretId, secretType] = args
    const key = args.length === 4 ? args[2] : undefined
    const roleArn = args[args.length - 1]
    const fail = (text: string): ActionFailure => new ActionFailure(failedAction, failedResource, text)
    if (!secretId || !roleArn) throw fail('get_secret: the secretId and roleArn arguments must not be empty')
    const cacheKey = JSON.stringify([region, roleArn, secretId, secretType, key])
    const cached = this.#secretCache.get(cacheKey)
    if (cached && cached.until > Date.now()) return cached.value
    const value = await this.#readSecret(secretId, secretType, key, roleArn, message, region, fail)
    if (this.secretCacheMs > 0) this.#secretCache.set(cacheKey, {value, until: Date.now() + this.secretCacheMs})
    return value
  }

  async #readSecret(secretId: string, secretType: string | undefined, key: string | undefined, roleArn: string, message: RuleMessage, region: string, fail: (text: string) => ActionFailure): Promise<string> {
    if (!this.#authorizer) throw fail(`get_secret: the local AWS cannot evaluate whether ${roleArn} may read ${secretId} (no policy engine)`)
    const decision = await this.#authorizer.canReadSecret(roleArn, secretId, region)
    if (!decision.allowed) throw fail(`Failed to retrieve the secret ${secretId} with role ${roleArn}: ${decision.reason}`)
    const secretAccount = /^arn:aws[\w-]*:secretsmanager:[^:]+:(\d{12}):/.exec(secretId)?.[1] ?? message.account
    const answer = await this.#moto.json('secretsmanager', 'secretsmanager.GetSecretValue', secretAccount, region, {SecretId: secretId})
    if (answer.status !== 200) {
      throw fail(`Failed to retrieve the secret ${secretId}: ${String(answer.value.__type ?? answer.status).split('#').pop()}: ${String(answer.value.message ?? answer.value.Message ?? '')}`)
    }
    if (secretType === 'SecretBinary') {
      if (typeof answer.value.SecretBinary !== 'string') throw fail(`get_secret: the secret ${secretId} has no SecretBinary value`)
      return answer.value.SecretBinary
    }
    const text = answer.value.SecretString
    if (typeof text !== 'string') throw fail(`get_secret: the secret ${secretId} has no SecretString value`)
    if (key === undefined) return text
    const json = parsePayload(Buffer.from(text))
    if (!json || typeof json !== 'object' || Array.isArray(json)) throw fail(`get_secret: the SecretString of ${secretId} is not a JSON object, so it has no key '${key}'`)
    const value = (json as Record<string, unknown>)[key]
    if (value === undefined) throw fail(`get_secret: the SecretString of ${secretId} has no key '${key}'`)
    return typeof value === 'string' ? value : JSON.stringify(value)
  }

  async #kafkaAction(action: CompiledAction, message: RuleMessage, output: Buffer, region: string): Promise<void> {
    const failedAction = 'KafkaAction'
    const rawTopic = typeof action.body.topic === 'string' ? action.body.topic : ''
    const topic = (await this.#field(action, 'topic', message, region, failedAction, rawTopic)) ?? ''
    const fail = (text: string): ActionFailure => new ActionFailure(failedAction, topic, text)
    const arn = String(action.body.destinationArn ?? '')
    const destination = this.#destinations.destination(arn)
    if (destination?.account !== message.account || destination.region !== region) throw fail(`The VPC destination ${arn} does not exist`)
    if (destination.status !== 'ENABLED') throw fail(`The VPC destination ${arn} is ${destination.status}, not ENABLED: messages cannot reach the Kafka cluster`)
    const kafka = this.#kafka
    if (!kafka) throw fail('org.apache.kafka.common.errors.TimeoutException: no Kafka broker runs behind the local AWS (start it with startLocalAws({kafka: true}))')
    const properties: Record<string, string> = {}
    for (const name of Object.keys((action.body.clientProperties as Record<string, unknown>) ?? {})) {
      properties[name] = (await this.#field(action, `clientProperties.${name}`, message, region, failedAction, topic)) ?? ''
    }
    const key = await this.#field(action, 'key', message, region, failedAction, topic)
    const partitionText = await this.#field(action, 'partition', message, region, failedAction, topic)
    const headers: Record<string, string> = {}
    for (const [i, header] of (Array.isArray(action.body.headers) ? action.body.headers : []).entries()) {
      const name = (await this.#field(action, `headers[${i}].key`, message, region, failedAction, topic)) ?? String((header as {key?: unknown}).key)
      headers[name] = (await this.#field(action, `headers[${i}].value`, message, region, failedAction, topic)) ?? ''
    }
    let partition: number | undefined
    if (partitionText !== undefined && partitionText !== '') {
      partition = Number(partitionText)
      if (!Number.isInteger(partition) || partition < 0) throw fail(`The partition '${partitionText}' is not a partition number`)
    }
    try {
      const config = clientConfig(properties, kafka)
      await this.#producers.send(config, {topic, value: output, key: key || undefined, partition, headers: Object.keys(headers).length ? headers : undefined})
    } catch (error) {
      if (error instanceof KafkaActionError) throw fail(error.message)
      throw error
    }
  }

  async #republishAction(action: CompiledAction, rule: CompiledRule, message: RuleMessage, output: Buffer, region: string): Promise<void> {
    const failedAction = 'RepublishAction'
    const topic = (await this.#field(action, 'topic', message, region, failedAction, String(action.body.topic ?? ''))) ?? ''
    const fail = (text: string): ActionFailure => new ActionFailure(failedAction, topic, text)
    const roleArn = String(action.body.roleArn ?? '')
    if (this.#authorizer?.roleMay) {
      const resource = `arn:aws:iot:${region}:${message.account}:topic/${topic}`
      const decision = await this.#authorizer.roleMay(roleArn, 'iot:Publish', resource)
      if (!decision.allowed) throw fail(`User: ${assumedRole(roleArn)} is not authorized to perform: iot:Publish on resource: ${resource} (${decision.reason})`)
    }
    if (!this.#dataPlane) throw fail('The local AWS has no IoT data plane to republish to')
    await this.#dataPlane.publish(message.account, region, topic, output)
  }

  async #s3Action(action: CompiledAction, message: RuleMessage, output: Buffer, region: string): Promise<void> {
    const failedAction = 'S3Action'
    const bucket = (await this.#field(action, 'bucketName', message, region, failedAction, '')) ?? ''
    const key = (await this.#field(action, 'key', message, region, failedAction, bucket)) ?? ''
    const fail = (text: string): ActionFailure => new ActionFailure(failedAction, bucket, text)
    const roleArn = String(action.body.roleArn ?? '')
    const objectArn = `arn:aws:s3:::${bucket}/${key}`
    if (this.#authorizer?.roleMay) {
      const decision = await this.#authorizer.roleMay(roleArn, 's3:PutObject', objectArn)
      if (!decision.allowed) throw fail(`User: ${assumedRole(roleArn)} is not authorized to perform: s3:PutObject on resource: ${objectArn} (${decision.reason})`)
    }
    if (!key) throw fail('The S3 object key is empty')
    const path = `/${encodeURIComponent(bucket)}/${key.split('/').map(encodeURIComponent).join('/')}`
    const answer = await this.#moto.call({service: 's3', method: 'PUT', path, account: message.account, region, headers: {'content-type': 'application/octet-stream'}, body: output.toString('utf8')})
    if (answer.status >= 300) {
      const text = answer.body.toString('utf8')
      throw fail(`${/<Code>([^<]*)<\/Code>/.exec(text)?.[1] ?? answer.status}: ${/<Message>([^<]*)<\/Message>/.exec(text)?.[1] ?? 'PutObject failed'}`)
    }
  }

  #record(entry: Omit<RuleError, 'time'>): void {
    this.#errors.push({time: new Date().toISOString(), ...entry})
    if (this.#errors.length > this.#maxErrors) this.#errors.splice(0, this.#errors.length - this.#maxErrors)
  }

  async #rulesOf(account: string, region: string): Promise<CompiledRule[]> {
    const key = `${account}/${region}`
    let rules = this.#rules.get(key)
    if (!rules) {
      rules = this.#load(account, region)
      this.#rules.set(key, rules)
      rules.catch(() => this.#rules.delete(key))
    }
    return rules
  }

  async #load(account: string, region: string): Promise<CompiledRule[]> {
    const names: string[] = []
    let nextToken: string | undefined
    do {
      const list = await this.#moto.rest('iot', 'GET', `/rules${nextToken ? `?nextToken=${encodeURIComponent(nextToken)}` : ''}`, account, region)
      if (list.status !== 200) throw new Error(`ListTopicRules answered ${list.status}`)
      for (const r of (list.value.rules as {ruleName: string; ruleDisabled?: boolean}[] | undefined) ?? []) if (!r.ruleDisabled) names.push(r.ruleName)
      nextToken = list.value.nextToken as string | undefined
    } while (nextToken)
    const compiled: CompiledRule[] = []
    for (const name of names) {
      const answer = await this.#moto.rest('iot', 'GET', `/rules/${encodeURIComponent(name)}`, account, region)
      const rule = answer.value.rule as {sql?: string; actions?: unknown[]; errorAction?: unknown; ruleDisabled?: boolean} | undefined
      if (answer.status !== 200 || !rule || rule.ruleDisabled) continue
      try {
        compiled.push({
          name,
          arn: String(answer.value.ruleArn ?? `arn:aws:iot:${region}:${account}:rule/${name}`),
          query: parseStatement(rule.sql),
          actions: (rule.actions ?? []).flatMap((a) => compileAction(a, name)),
          errorAction: rule.errorAction ? compileAction(rule.errorAction, name)[0] : undefined,
        })
      } catch (error) {
        // Rules are validated when created through the stand-in; one stored otherwise is skipped, and said so.
        this.#record({account, region, ruleName: name, topic: '', stage: 'sql', errorMessage: `rule not loaded: ${(error as Error).message}`})
      }
    }
    return compiled
  }
}

/** `$aws/rules/<rule_name>/<topic>`: the rule and the topic it sees. */
const basicIngest = /^\$aws\/rules\/([^/]+)\/(.+)$/

function compileAction(action: unknown, ruleName: string): CompiledAction[] {
  if (!action || typeof action !== 'object') return []
  const entries = Object.entries(action as Record<string, unknown>).filter(([, v]) => v && typeof v === 'object')
  return entries.map(([kind, body]) => ({
    kind,
    body: body as Record<string, unknown>,
    fields: new Map(templateFields(body)),
    templates: parseActionTemplates(body, `rule ${ruleName} ${kind}`),
  }))
}

/** 'kafka' → 'KafkaAction', as the error document names actions ("S3Action" in the AWS example). */
function actionName(kind: string): string {
  return `${kind.charAt(0).toUpperCase()}${kind.slice(1)}Action`
}

function assumedRole(roleArn: string): string {
  const m = /^arn:aws[\w-]*:iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(roleArn)
  return m ? `arn:aws:sts::${m[1]}:assumed-role/${m[2]}/aws-iot-rules-engine` : roleArn
}
