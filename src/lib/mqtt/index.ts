// The MQTT capability: connections to AWS IoT Core (mutual TLS, SigV4 WebSocket),
// publishing, subscribing, load, topic checks and payload templates. See README.md.
export {
  type ClientOverrides,
  type ConnectionOptions,
  connectClient,
  type MqttConnection,
  type MtlsConnectionOptions,
  prepareConnection,
  type TcpConnectionOptions,
  type WebSocketConnectionOptions,
} from './connection.ts'
export {describeIotDataEndpoint} from './endpoint.ts'
export {latencySummary} from './latency.ts'
export {type LatencySummary, type LoadDevice, type LoadFailures, type LoadOptions, type LoadProgress, type LoadResult, runLoad} from './load.ts'
export {
  maxPayloadBytes,
  publish,
  type PublishAck,
  type PublishOptions,
  type PublishResult,
  type Qos,
  readPayloadFile,
  validatePositive,
  validateQos,
} from './publish.ts'
export {iotSigningService, type PresignOptions, presignMqttWebSocketUrl} from './sigv4.ts'
export {type ReceivedMessage, subscribe, type SubscribeOptions, type SubscribeResult} from './subscribe.ts'
export {compileTemplate, placeholders, type Template, type TemplateContext} from './template.ts'
export {matchTopicRules, ruleTopicFilter, type RuleTopicMatch, type TopicRule, topicMatchesFilter, validatePublishTopic, validateTopicFilter} from './topics.ts'
