// The account's IoT data endpoint: where devices and test clients connect.
import type {IoTClient} from '@aws-sdk/client-iot'
import * as iotapi from '../aws/iot.ts'
import {AwsError} from '../errors.ts'

/**
 * DescribeEndpoint with endpointType "iot:Data-ATS": the endpoint served with an
 * Amazon Trust Services certificate (Amazon Root CA 1), which Node trusts out of the
 * box. (The legacy "iot:Data" endpoint uses a VeriSign certificate; AWS recommends ATS.)
 */
export async function describeIotDataEndpoint(iot: IoTClient): Promise<string> {
  const output = await iotapi.describeEndpoint(iot, {endpointType: 'iot:Data-ATS'}, 'describe the IoT data endpoint')
  if (!output.endpointAddress) throw new AwsError('describe the IoT data endpoint', 'NoEndpoint', 'DescribeEndpoint returned no endpointAddress')
  return output.endpointAddress
}
