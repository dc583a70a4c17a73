// The rules engine's SQL subset, as tables: what parses, what is refused, and
// what a statement makes of a message (AWS IoT SQL reference examples).
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {evaluateRule, parseTemplate, renderTemplate, RuleEvaluationError, type RuleMessage} from '../support/local-aws/rules/evaluate.ts'
import {parseRuleSql, SqlParseError, topicMatches} from '../support/local-aws/rules/sql.ts'

const message = (payload: unknown, topic = 'device/dev1/data', extra: Partial<RuleMessage> = {}): RuleMessage => ({
  topic,
  payload: Buffer.isBuffer(payload) ? payload : Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload)),
  clientId: 'dev1',
  principal: 'abc123',
  account: '222222222222',
  timestamp: 1700000000000,
  ...extra,
})

const run = (sql: string, payload: unknown, topic?: string): unknown => {
  const outcome = evaluateRule(parseRuleSql(sql), message(payload, topic))
  return outcome.matched ? JSON.parse(outcome.output.toString()) : 'not matched'
}

describe('rule SQL: statements that parse', () => {
  const accepted = [
    "SELECT * FROM 'device/+/data'",
    "select * from 'a/#'",
    "SELECT topic(2) as device_id, temperature FROM 'device/+/data'",
    "SELECT a, b.c AS x, topic(2) AS device_id, clientid(), timestamp(), 'literal' AS k, 42 AS n FROM 't'",
    "SELECT * FROM 'device/+/data' WHERE temperature > 50 AND (status = 'on' OR NOT muted)",
    "SELECT *, 15 as speed FROM 'topic/subtopic'",
    "SELECT VALUE color FROM 'topic/subtopic'",
    "SELECT (temperature - 32) * 5 / 9 AS celsius FROM 'x' WHERE a <> 1 AND b != 2 AND c <= 3 AND d >= 4 AND e < 5",
    "SELECT encode(*, 'base64') AS data FROM 'bin'",
    'SELECT * FROM "double/quoted"',
  ]
  for (const sql of accepted) it(sql, () => assert.doesNotThrow(() => parseRuleSql(sql)))
})

describe('rule SQL: statements refused with a parse error', () => {
  const refused: [string, RegExp][] = [
    ['THIS IS NOT SQL', /Expected SELECT but found 'THIS' at position 1/],
    ['SELECT * FROM', /quoted topic filter/],
    ['SELECT * FROM device/+/data', /quoted topic filter/],
    ["SELECT FROM 't'", /Expected an expression but found 'FROM'/],
    ["SELECT * FROM 't' WHERE", /Expected an expression/],
    ["SELECT * FROM 't' WHERE a >", /Expected an expression/],
    ["SELECT * FROM 't' WHERE (a > 1", /Expected '\)'/],
    ["SELECT nosuch(a) FROM 't'", /Unknown function 'nosuch'/],
    ["SELECT topic(1, 2) FROM 't'", /topic takes 0 to 1 argument/],
    ["SELECT * FROM 'a/#/b'", /'#' must be the last level/],
    ["SELECT * FROM 'a/b+'", /'\+' must be alone/],
    ["SELECT * FROM 't' ORDER BY a", /Expected WHERE or the end of the statement but found 'ORDER'/],
    ["SELECT * FROM 't' WHERE a = 1 LIMIT 3", /Expected an operator, AND, OR or the end of the statement but found 'LIMIT'/],
    ["SELECT * FROM 't' WHERE a = 'open", /Unterminated string/],
    ["SELECT a; DROP TABLE x FROM 't'", /Unexpected character ';'/],
    ["SELECT VALUE a, b FROM 't'", /SELECT VALUE takes exactly one/],
  ]
  for (const [sql, error] of refused) {
    it(sql, () => assert.throws(() => parseRuleSql(sql), (e: Error) => e instanceof SqlParseError && error.test(e.message)))
  }
})

describe('rule SQL: what a statement makes of a message', () => {
  const cases: [string, unknown, unknown, string?][] = [
    ["SELECT * FROM 'device/+/data'", {temperature: 21}, {temperature: 21}],
    ["SELECT topic(2) as device_id, temperature FROM 'device/+/data'", {temperature: 21, x: 1}, {device_id: 'dev1', temperature: 21}],
    ["SELECT color AS rgb FROM 'topic/subtopic' WHERE temperature > 50", {color: 'red', temperature: 100}, {rgb: 'red'}, 'topic/subtopic'],
    ["SELECT color AS rgb FROM 'topic/subtopic' WHERE temperature > 50", {color: 'red', temperature: 40}, 'not matched', 'topic/subtopic'],
    ["SELECT * FROM 'device/+/data'", {a: 1}, 'not matched', 'device/dev1/other'],
    ["SELECT * FROM 'device/#'", {a: 1}, {a: 1}, 'device/dev1/x/y'],
    ["SELECT b.c AS x, b.missing AS y FROM 'device/+/data'", {b: {c: [1, 2]}}, {x: [1, 2]}],
    ["SELECT clientid() AS c, timestamp() AS t, principal() AS p, 'lit' AS k, 7 AS n, true AS b, NULL AS z FROM 'device/+/data'", {}, {c: 'dev1', t: 1700000000000, p: 'abc123', k: 'lit', n: 7, b: true, z: null}],
    ["SELECT clientid(), topic() FROM 'device/+/data'", {}, {clientid: 'dev1', topic: 'device/dev1/data'}],
    ["SELECT *, 15 as speed FROM 'device/+/data'", {color: 'red'}, {color: 'red', speed: 15}],
    ["SELECT VALUE color FROM 'device/+/data'", {color: 'red'}, 'red'],
    ["SELECT (temperature - 32) * 5 / 9 AS celsius, upper(color) AS c FROM 'device/+/data'", {temperature: 50, color: 'red'}, {celsius: 10, c: 'RED'}],
    ["SELECT a AS x.y FROM 'device/+/data'", {a: 1}, {x: {y: 1}}],
    ["SELECT * FROM 'device/+/data' WHERE status = 'on' AND (level >= 3 OR urgent)", {status: 'on', level: 1, urgent: true}, {status: 'on', level: 1, urgent: true}],
    ["SELECT * FROM 'device/+/data' WHERE status = 'on' AND (level >= 3 OR urgent)", {status: 'on', level: 1, urgent: false}, 'not matched'],
    ["SELECT * FROM 'device/+/data' WHERE NOT (status <> 'on')", {status: 'on'}, {status: 'on'}],
    ["SELECT * FROM 'device/+/data' WHERE status != 'on'", {status: 'off'}, {status: 'off'}],
    // Undefined (a missing field) never satisfies WHERE, whatever the operator.
    ["SELECT * FROM 'device/+/data' WHERE missing <> 1", {a: 1}, 'not matched'],
    ["SELECT * FROM 'device/+/data' WHERE NOT missing", {a: 1}, 'not matched'],
    // Numeric strings compare as numbers; "true"/"false" strings as booleans.
    ["SELECT * FROM 'device/+/data' WHERE t > 5", {t: '10'}, {t: '10'}],
    ["SELECT * FROM 'device/+/data' WHERE ok AND 1 = 1", {ok: 'TRUE'}, {ok: 'TRUE'}],
    // Different types are not equal (Undefined): neither = nor <> fires.
    ["SELECT * FROM 'device/+/data' WHERE t = '10'", {t: 10}, 'not matched'],
    ["SELECT * FROM 'device/+/data' WHERE t <= 10 AND t < 11 AND t >= 10", {t: 10}, {t: 10}],
  ]
  for (const [sql, payload, expected, topic] of cases) {
    it(`${sql} on ${JSON.stringify(payload)}${topic ? ` (${topic})` : ''}`, () => assert.deepEqual(run(sql, payload, topic), expected))
  }
})

describe('rule SQL: binary payloads', () => {
  const bytes = Buffer.from([0x00, 0xff, 0x10, 0x80])
  it('SELECT * passes a non-JSON payload through as its bytes', () => {
    const outcome = evaluateRule(parseRuleSql("SELECT * FROM 'bin'"), message(bytes, 'bin'))
    assert.ok(outcome.matched)
    assert.deepEqual(outcome.output, bytes)
  })
  it("encode(*, 'base64') works on a non-JSON payload", () => {
    assert.deepEqual(run("SELECT encode(*, 'base64') AS data, topic() AS t FROM 'bin'", bytes, 'bin'), {data: bytes.toString('base64'), t: 'bin'})
  })
  it('reading a JSON field of a non-JSON payload fails the rule', () => {
    assert.throws(() => evaluateRule(parseRuleSql("SELECT * FROM 'bin' WHERE device_type = 'thermostat'"), message(bytes, 'bin')), RuleEvaluationError)
  })
})

describe('topic filters', () => {
  const cases: [string, string, boolean][] = [
    ['device/+/data', 'device/dev1/data', true],
    ['device/+/data', 'device/dev1/data/x', false],
    ['device/#', 'device', true],
    ['device/#', 'device/a/b', true],
    ['#', '$aws/things/x/shadow/update', false],
    ['$aws/things/+/shadow/update', '$aws/things/x/shadow/update', true],
    ['a/b', 'a/b', true],
    ['a/b', 'a/c', false],
  ]
  for (const [filter, topic, expected] of cases) it(`${filter} ${expected ? 'matches' : 'does not match'} ${topic}`, () => assert.equal(topicMatches(filter, topic), expected))
})

describe('substitution templates', () => {
  it('renders expressions between ${ and }', () => {
    const parts = parseTemplate("dev-${topic(2)}-${upper(kind)}/${missing}/${'}'}")
    assert.equal(renderTemplate(parts, message({kind: 'temp'})), 'dev-dev1-TEMP//}')
  })
  it('refuses get_secret with two arguments', () => {
    assert.throws(() => parseTemplate("${get_secret('s', 'SecretString')}"), /get_secret takes 3 to 4 argument/)
  })
})
