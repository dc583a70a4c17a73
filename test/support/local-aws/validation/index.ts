// Request validation against the service model, before moto (or a stand-in
// handler) sees the request: what AWS's front end refuses with a 400 naming
// the member. Error codes per service, as each service's API reference gives
// its validation error:
// - awsJson / restJson services: ValidationException ("1 validation error detected: …");
//   AWS IoT: InvalidRequestException (its operations list no ValidationException);
//   Amazon MSK: BadRequestException with `invalidParameter`;
//   a JSON value of the wrong type: SerializationException (awsJson).
// - IAM and STS (awsQuery): ValidationError, same wording.
// - EC2 (ec2Query): MissingParameter ("The request must contain the parameter X"),
//   InvalidParameterValue otherwise (EC2 API reference, "Common client error codes").
import {AwsServiceError} from '../aws-errors.ts'
import type {RequestFacts} from '../request-info.ts'
import {Checker, type Violation} from './check.ts'
import {readInput, type Wire} from './input.ts'
import type {ServiceModel} from './model.ts'

const validationCodes: Record<string, string> = {
  iot: 'InvalidRequestException',
  kafka: 'BadRequestException',
  iam: 'ValidationError',
  sts: 'ValidationError',
}

function render(v: Violation): string {
  if (v.sensitive) return ''
  if (v.value === null) return 'null '
  if (Array.isArray(v.value)) return `'[${v.value.map(String).join(', ')}]' `
  if (typeof v.value === 'object') return ''
  return `'${String(v.value)}' `
}

/** AWS's wording: "N validation error(s) detected: Value 'x' at 'member' failed to satisfy constraint: …; …". */
export function validationMessage(violations: Violation[]): string {
  const n = violations.length
  const each = violations.map((v) => `Value ${render(v)}at '${v.path}' failed to satisfy constraint: ${v.constraint}`)
  return `${n} validation error${n === 1 ? '' : 's'} detected: ${each.join('; ')}`
}

export interface ValidatedRequest {
  facts: RequestFacts
  url: URL
  headers: Record<string, string | string[] | undefined>
  body: Buffer
}

/** The error AWS answers a request that breaks its model's constraints; undefined if it passes (or the model is unknown). */
export function validateRequest(modelFor: (service: string) => ServiceModel | undefined, request: ValidatedRequest): AwsServiceError | undefined {
  const {facts} = request
  const model = modelFor(facts.service)
  const operation = model?.operations[facts.operation]
  if (!model || !operation?.input) return undefined
  const wire = model.metadata.protocol as Wire
  if (wire !== facts.protocol) return undefined
  const input = readInput(model, operation.input.shape, {wire, url: request.url, headers: request.headers, body: request.body, uriParams: facts.uriParams})
  if (!input) return undefined
  const violations = new Checker(model, wire).check(operation.input.shape, input)
  if (violations.length === 0) return undefined

  if (wire === 'ec2') {
    const missing = violations.find((v) => v.kind === 'required')
    if (missing) return new AwsServiceError('MissingParameter', 400, `The request must contain the parameter ${missing.path}`)
    const v = violations[0]
    const shown = v.sensitive ? '' : ` (${Array.isArray(v.value) ? v.value.join(', ') : String(v.value)})`
    return new AwsServiceError('InvalidParameterValue', 400, `Value${shown} for parameter ${v.path} is invalid. ${v.constraint}`)
  }
  const typeError = violations.find((v) => v.kind === 'type')
  if (typeError && wire === 'json') {
    return new AwsServiceError('SerializationException', 400, `Value ${render(typeError)}at '${typeError.path}' cannot be read: ${typeError.constraint}`)
  }
  const code = validationCodes[facts.service] ?? 'ValidationException'
  const extra = code === 'BadRequestException' ? {invalidParameter: violations[0].member} : {}
  return new AwsServiceError(code, 400, validationMessage(violations), extra)
}
