// What `secret rotate` prints: names and version ids, never a value.
import {formatDuration} from '../lib/secrets/durations.ts'
import type {SecretRotateResult} from '../lib/secrets/rotation.ts'

export function renderRotation(result: SecretRotateResult): string[] {
  const lines: string[] = []
  if (result.upgraded.length > 0) {
    lines.push(`${result.dryRun ? 'would add' : 'added'} the second SCRAM user (alternating users), while the rule kept reading ${result.previousSecretName} (no outage):`)
    for (const change of result.upgraded) lines.push(`  ${change}`)
  }
  const versions = `MSK account ${result.current.msk.versionId}, IoT account ${result.current.iot.versionId}`
  if (!result.rotated) {
    lines.push(result.dryRun && result.reason === 'dry run'
      ? `dry run: would write a new password to ${result.secretName} in both accounts${result.previousSecretName ? `, then switch rule get_secret from ${result.previousSecretName} to it` : ''} (current versions: ${versions})`
      : result.reason ?? 'not rotated')
    return lines
  }
  if (result.olderThan && result.activeAgeSeconds !== undefined) lines.push(`${result.previousSecretName ?? result.secretName} was last changed ${formatDuration(result.activeAgeSeconds * 1000)} ago, older than ${result.olderThan}: rotating`)
  if (result.waited) {
    lines.push(result.waited.how === 'scram-login'
      ? `the brokers accept the new password of ${result.secretName} (checked by a SCRAM sign-in, after ${result.waited.seconds}s)`
      : `waited ${result.waited.seconds}s for MSK to apply the new password of ${result.secretName} (the brokers are not reachable from here)`)
  }
  if (result.rule) lines.push(`rule ${result.rule.name}: get_secret ${result.rule.from} → ${result.rule.to} (ReplaceTopicRule)`)
  lines.push(`rotated ${result.secretName}; current versions: ${versions}`)
  if (result.rule) lines.push(`${result.rule.from} stays valid until the next rotation, for what AWS IoT cached (up to 15 minutes)`)
  if (result.notified) lines.push(`rotation event produced to Kafka topic ${result.notified.topic}`)
  if (result.notifyFailed) lines.push(`warning: the rotation event was not produced to Kafka topic ${result.notifyFailed.topic}: ${result.notifyFailed.reason}`)
  return lines
}
