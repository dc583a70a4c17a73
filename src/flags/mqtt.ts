// Flags shared by `mqtt publish`, `mqtt subscribe` and `mqtt load`.
import {Flags} from '@oclif/core'

export const connectionFlags = {
  endpoint: Flags.string({
    summary: 'Broker: host or host:port (default: the account\'s iot:Data-ATS endpoint from DescribeEndpoint). wss://… and, for local brokers, ws://… or mqtt://… URLs are accepted.',
    helpValue: '<host[:port]>',
    helpGroup: 'CONNECTION',
  }),
  cert: Flags.string({summary: 'Device certificate (PEM): connect with mutual TLS on port 8883. Without it: MQTT over WebSocket signed with SigV4 with the profile\'s credentials.', helpValue: '<file>', helpGroup: 'CONNECTION', dependsOn: ['key']}),
  key: Flags.string({summary: 'The certificate\'s private key (PEM).', helpValue: '<file>', helpGroup: 'CONNECTION', dependsOn: ['cert']}),
  ca: Flags.string({summary: 'CA bundle to trust instead of Node\'s roots (which include Amazon Root CA 1).', helpValue: '<file>', helpGroup: 'CONNECTION'}),
  'client-id': Flags.string({summary: 'MQTT client id (default: the thing name for <thing>.cert.pem, else iotctl-<random>).', helpValue: '<id>', helpGroup: 'CONNECTION'}),
}

export const qosFlag = Flags.integer({summary: 'QoS 0 or 1 (AWS IoT does not support QoS 2).', default: 1, helpValue: '<0|1>'})

export const payloadFlags = {
  message: Flags.string({char: 'm', summary: 'Payload (a template: {{seq}}, {{timestamp}}, {{iso}}, {{random:20.0:30.0}}, {{uuid}}, {{device}}, {{index}}).', helpValue: '<text>', exclusive: ['file']}),
  file: Flags.string({char: 'f', summary: 'Read the payload template from a file.', helpValue: '<file>', exclusive: ['message']}),
}
