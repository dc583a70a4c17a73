// The account's IoT data endpoint: where devices and test clients connect.
import type {IoTClient} from '@aws-sdk/client-iot'
import {AwsError, aws} from '../errors.ts'

/**
 * DescribeEndpoint with endpointType "iot:Data-ATS": the endpoint served with an
 * Amazon Trust Services certificate (Amazon Root CA 1), which Node trusts out of the
 * box. (The legacy "iot:Data" endpoint uses a VeriSign certificate; AWS recommends ATS.)
 */
export async function describeIotDataEndpoint(iot: IoTClient): Promise<string> {
  const {DescribeEndpointCommand} = await import('@aws-sdk/client-iot')
  const output = await aws('describe the IoT data endpoint', () => iot.send(new DescribeEndpointCommand({endpointType: 'iot:Data-ATS'})))
  if (!output.endpointAddress) throw new AwsError('describe the IoT data endpoint', 'NoEndpoint', 'DescribeEndpoint returned no endpointAddress')
  return output.endpointAddress
}
