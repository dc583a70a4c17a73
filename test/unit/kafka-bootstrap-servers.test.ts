// --bootstrap-server and GetBootstrapBrokers' string: host:port entries, comma-separated; anything else is exit 2 naming the entry.
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {InputError} from '../../src/lib/errors.ts'
import {brokersLabel, parseBootstrapServers} from '../../src/lib/msk/kafka-client.ts'

test('host:port lists parse, MSK names and IPv6 included', () => {
  assert.deepEqual(parseBootstrapServers('localhost:9096'), [{host: 'localhost', port: 9096}])
  assert.deepEqual(parseBootstrapServers('b-1.demo.abc.c2.kafka.us-east-1.amazonaws.com:9096, b-2.demo.abc.c2.kafka.us-east-1.amazonaws.com:9096'),
    [{host: 'b-1.demo.abc.c2.kafka.us-east-1.amazonaws.com', port: 9096}, {host: 'b-2.demo.abc.c2.kafka.us-east-1.amazonaws.com', port: 9096}])
  assert.deepEqual(parseBootstrapServers('[::1]:9096'), [{host: '::1', port: 9096}])
  assert.equal(brokersLabel(parseBootstrapServers('[::1]:9096,127.0.0.1:1')), '[::1]:9096,127.0.0.1:1')
})

test('anything but host:port is bad input naming the entry', () => {
  for (const bad of ['nohost', 'localhost', 'localhost:', ':9096', 'localhost:0', 'localhost:70000', 'localhost:96x', 'a:1,,b:2', '', 'http://localhost:9096', 'host name:1']) {
    assert.throws(() => parseBootstrapServers(bad), (error: Error) => error instanceof InputError && /^--bootstrap-server .*expected host:port|^--bootstrap-server is empty/.test(error.message), bad)
  }
})
