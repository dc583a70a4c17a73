// The names a stack's resources get: `iotctl-<stack>…`, and for the default
// stack (or any stack already named iotctl…) no doubled `iotctl-iotctl`.
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {stackPrefix} from '../../src/lib/config/stack-names.ts'
import {defaultStack} from '../../src/lib/config/settings.ts'
import {devicePolicyPrefix} from '../../src/lib/device/policy.ts'
import {defaultRuleName} from '../../src/lib/iot/names.ts'
import {iotRoleName} from '../../src/lib/iot/policies.ts'
import {clusterNameOf} from '../../src/lib/msk/cluster-spec.ts'
import {keyAliasOf} from '../../src/lib/secrets/names.ts'

const namesOf = (stack: string) => [
  iotRoleName(stack), devicePolicyPrefix(stack), defaultRuleName(stack), clusterNameOf({stack}), keyAliasOf({stack}),
]

test('the default stack names its resources without a doubled iotctl', () => {
  assert.deepEqual(namesOf(defaultStack), ['iotctl-iot-to-msk', 'iotctl-device-', 'iotctl_to_kafka', 'iotctl', 'alias/iotctl'])
  for (const stack of [defaultStack, 'iotctl-ci', 'iotctl_2']) {
    for (const name of namesOf(stack)) assert.doesNotMatch(name, /iotctl[-_]iotctl/, `${stack}: ${name}`)
  }
})

test('any other stack is prefixed with iotctl-, so names say who made them', () => {
  assert.deepEqual(namesOf('plant7'), ['iotctl-plant7-iot-to-msk', 'iotctl-plant7-device-', 'iotctl_plant7_to_kafka', 'iotctl-plant7', 'alias/iotctl-plant7'])
  assert.equal(stackPrefix('iotctlx'), 'iotctl-iotctlx', 'a stack that only begins with the letters')
})
