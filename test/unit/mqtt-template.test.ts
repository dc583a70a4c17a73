import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {InputError} from '../../src/lib/errors.ts'
import {compileTemplate} from '../../src/lib/mqtt/template.ts'

const context = {seq: 7, device: 'sensor-3', index: 3}

describe('payload templates', () => {
  test('text without placeholders is static and unchanged', () => {
    const template = compileTemplate('{"temperature": 21.5}')
    assert.equal(template.isStatic, true)
    assert.equal(template.render(context), '{"temperature": 21.5}')
  })

  test('an empty template renders empty', () => {
    assert.equal(compileTemplate('').render(context), '')
  })

  test('{{seq}}, {{device}} and {{index}} come from the context', () => {
    const template = compileTemplate('{"device":"{{device}}","n":{{index}},"seq":{{seq}}}')
    assert.equal(template.isStatic, false)
    assert.equal(template.render(context), '{"device":"sensor-3","n":3,"seq":7}')
    assert.equal(template.render({...context, seq: 8}), '{"device":"sensor-3","n":3,"seq":8}')
  })

  test('spaces inside the braces are allowed', () => {
    assert.equal(compileTemplate('{{ seq }}').render(context), '7')
  })

  test('{{timestamp}} is milliseconds since the epoch, {{iso}} an ISO 8601 time', () => {
    const before = Date.now()
    const [timestamp, iso] = compileTemplate('{{timestamp}} {{iso}}').render(context).split(' ')
    assert.ok(Number(timestamp) >= before && Number(timestamp) <= Date.now())
    assert.match(iso, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
  })

  test('{{uuid}} differs each time', () => {
    const template = compileTemplate('{{uuid}}')
    const values = new Set(Array.from({length: 100}, () => template.render(context)))
    assert.equal(values.size, 100)
    for (const value of values) assert.match(value, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
  })

  test('{{random:MIN:MAX}} with whole bounds gives integers in [MIN, MAX], both reached', () => {
    const template = compileTemplate('{{random:20:22}}')
    const values = new Set(Array.from({length: 500}, () => template.render(context)))
    assert.deepEqual([...values].sort(), ['20', '21', '22'])
  })

  test('{{random:MIN:MAX}} keeps as many decimals as the bounds are written with', () => {
    const template = compileTemplate('{{random:20.0:30.00}}')
    for (let i = 0; i < 200; i++) {
      const value = template.render(context)
      assert.match(value, /^\d\d\.\d\d$/)
      assert.ok(Number(value) >= 20 && Number(value) <= 30)
    }
  })

  test('{{random}} accepts negative bounds', () => {
    const value = Number(compileTemplate('{{random:-5:-1}}').render(context))
    assert.ok(value >= -5 && value <= -1)
  })

  const bad: [string, RegExp][] = [
    ['{{nope}}', /unknown placeholder \{\{nope\}\} at offset 0/],
    ['abc {{seq', /not closed/],
    ['{{random:30:20}}', /MIN is greater than MAX/],
    ['{{random:a:b}}', /unknown placeholder/],
  ]
  for (const [source, message] of bad) {
    test(`${source} is an InputError`, () => {
      assert.throws(() => compileTemplate(source), (error) => error instanceof InputError && message.test(error.message))
    })
  }
})
