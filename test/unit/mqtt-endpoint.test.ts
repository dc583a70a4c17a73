import assert from 'node:assert/strict'
import {afterEach, describe, test} from 'node:test'
import {DescribeEndpointCommand, IoTClient} from '@aws-sdk/client-iot'
import {mockClient} from 'aws-sdk-client-mock'
import {AwsError} from '../../src/lib/errors.ts'
import {describeIotDataEndpoint} from '../../src/lib/mqtt/endpoint.ts'

const iot = new IoTClient({region: 'eu-west-1', credentials: {accessKeyId: 'AKID', secretAccessKey: 'secret'}})
const iotMock = mockClient(iot)

describe('IoT data endpoint discovery', () => {
  afterEach(() => iotMock.reset())

  test('asks DescribeEndpoint for the ATS data endpoint', async () => {
    iotMock.on(DescribeEndpointCommand).resolves({endpointAddress: 'abc123-ats.iot.eu-west-1.amazonaws.com'})
    assert.equal(await describeIotDataEndpoint(iot), 'abc123-ats.iot.eu-west-1.amazonaws.com')
    const calls = iotMock.commandCalls(DescribeEndpointCommand)
    assert.equal(calls.length, 1)
    assert.deepEqual(calls[0].args[0].input, {endpointType: 'iot:Data-ATS'})
  })

  test('an AWS failure is an AwsError with the AWS code', async () => {
    iotMock.on(DescribeEndpointCommand).rejects(Object.assign(new Error('not authorized to perform iot:DescribeEndpoint'), {name: 'UnauthorizedException', $metadata: {}}))
    await assert.rejects(describeIotDataEndpoint(iot), (error) => {
      assert.ok(error instanceof AwsError)
      assert.equal(error.code, 'UnauthorizedException')
      assert.equal(error.exitCode, 1)
      return true
    })
  })

  test('no address in the answer is an AwsError', async () => {
    iotMock.on(DescribeEndpointCommand).resolves({})
    await assert.rejects(describeIotDataEndpoint(iot), AwsError)
  })
})
