// What `msk consume` prints. Pure: returns text, the command writes it.
import type {KafkaMessage} from '../lib/msk/consume.ts'

/** `msk consume`: "<partition>:<offset> <timestamp> [key=<key>] <value>". */
export function kafkaMessageText(message: KafkaMessage): string {
  return `${message.partition}:${message.offset} ${message.timestamp}${message.key === null ? '' : ` key=${message.key}`} ${message.value ?? '(null)'}`
}
