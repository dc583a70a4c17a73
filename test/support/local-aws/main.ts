// `node test/support/local-aws/main.ts [--destination-delay-ms N] [--cluster-delay-ms N] [--no-throttle] [--no-kafka] [--scram-delay-ms N] [--role-delay-ms N] [--peering-delay-ms N] [--destination-deletion-delay-ms N] [--table-delay-ms N]`
// Starts moto, the stand-in and (unless --no-kafka) the Kafka broker behind the
// MSK clusters, prints one JSON line (endpoint, env, files, kafka) on stdout and
// stays up until SIGINT or SIGTERM.
import {parseArgs} from 'node:util'
import {startLocalAws} from './index.ts'

const {values} = parseArgs({
  options: {
    'destination-delay-ms': {type: 'string'},
    'cluster-delay-ms': {type: 'string'},
    'no-throttle': {type: 'boolean'},
    'no-kafka': {type: 'boolean'},
    'scram-delay-ms': {type: 'string'},
    'role-delay-ms': {type: 'string'},
    'peering-delay-ms': {type: 'string'},
    'destination-deletion-delay-ms': {type: 'string'},
    'table-delay-ms': {type: 'string'},
    region: {type: 'string'},
    dir: {type: 'string'},
  },
})

const started = Date.now()
const aws = await startLocalAws({
  region: values.region,
  dir: values.dir,
  destinationActivationDelayMs: values['destination-delay-ms'] === undefined ? undefined : Number(values['destination-delay-ms']),
  clusterActivationDelayMs: values['cluster-delay-ms'] === undefined ? undefined : Number(values['cluster-delay-ms']),
  openTunnelsPerSecond: values['no-throttle'] ? 0 : undefined,
  kafka: !values['no-kafka'],
  scramPropagationDelayMs: values['scram-delay-ms'] === undefined ? undefined : Number(values['scram-delay-ms']),
  rolePropagationDelayMs: values['role-delay-ms'] === undefined ? undefined : Number(values['role-delay-ms']),
  peeringActivationDelayMs: values['peering-delay-ms'] === undefined ? undefined : Number(values['peering-delay-ms']),
  destinationDeletionDelayMs: values['destination-deletion-delay-ms'] === undefined ? undefined : Number(values['destination-deletion-delay-ms']),
  tableActivationDelayMs: values['table-delay-ms'] === undefined ? undefined : Number(values['table-delay-ms']),
})

let stopping = false
const stop = (signal: NodeJS.Signals): void => {
  if (stopping) return
  stopping = true
  aws.stop().then(
    () => process.exit(signal === 'SIGINT' ? 130 : 0),
    (error: Error) => {
      process.stderr.write(`local-aws: stopping failed: ${error.message}\n`)
      process.exit(1)
    },
  )
}
process.on('SIGINT', stop)
process.on('SIGTERM', stop)

process.stdout.write(
  JSON.stringify({
    endpoint: aws.endpoint,
    control: `${aws.endpoint}/_standin`,
    motoUrl: aws.motoUrl,
    motoPid: aws.motoPid,
    region: aws.region,
    iotData: aws.iotData,
    env: aws.env,
    configFile: aws.configFile,
    credentialsFile: aws.credentialsFile,
    profiles: aws.profiles,
    accounts: aws.accounts,
    ...(aws.kafka ? {kafka: {bootstrap: aws.kafka.bootstrap, caFile: aws.kafka.caFile}} : {}),
    pid: process.pid,
    startupMs: Date.now() - started,
  }) + '\n',
)
