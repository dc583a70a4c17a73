import {resolve} from 'node:path'
import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../base-command.ts'
import {oneAccountFlags} from '../../flags/index.ts'
import {InputError} from '../../lib/errors.ts'
import {proxyEndpointFlag, timeoutMinutesFlag} from '../../flags/tunnel.ts'
import type {TunnelSshResult} from '../../lib/tunnel/api/ssh.ts'

export default class TunnelSsh extends BaseCommand<TunnelSshResult> {
  static override summary = 'ssh to a thing through a secure tunnel: open it, wait for the device, run ssh, close it.'
  static override description = `Opens a tunnel to the thing with the SSH service (or, with --reuse, uses an open one of the stack for that thing), waits until the device side is connected (its agent gets the token on $aws/things/<thing>/tunnels/notify: run \`iotctl tunnel agent\` there), then runs your ssh with ProxyCommand set to \`iotctl tunnel proxy\`, so ssh's own options, keys, known_hosts (under the thing's name) and terminal work as usual. Arguments after -- go to ssh: options first, then the remote command.

Exits with ssh's exit code, and closes the tunnel when ssh exits unless --keep-open.`

  static override examples = [
    '<%= config.bin %> <%= command.id %> dev1 --user pi',
    '<%= config.bin %> <%= command.id %> dev1 --user root -- uptime',
    '<%= config.bin %> <%= command.id %> dev1 --reuse --keep-open -- -i ~/.ssh/dev1 -L 8080:localhost:80 -N',
  ]

  static override usage = '<%= command.id %> THING [--user <user>] [--reuse] [--keep-open] [flags] [-- ssh options and remote command]'

  // ssh owns stdout.
  static override enableJsonFlag = false
  // Everything after -- belongs to ssh.
  static override strict = false

  static override args = {
    thing: Args.string({description: 'The thing to reach.', required: true}),
  }

  static override flags = {
    ...oneAccountFlags,
    user: Flags.string({summary: 'User name on the device (default: ssh\'s default).', helpValue: '<user>'}),
    reuse: Flags.boolean({summary: 'Use an open tunnel of the stack to this thing with SSH, if there is one.'}),
    'keep-open': Flags.boolean({summary: 'Leave the tunnel open when ssh exits (close it with `iotctl tunnel close`).'}),
    'timeout-minutes': timeoutMinutesFlag,
    wait: Flags.integer({summary: 'Seconds to wait for the device side to connect.', default: 60, helpValue: '<seconds>'}),
    'proxy-endpoint': proxyEndpointFlag,
  }

  async run(): Promise<TunnelSshResult> {
    const {args, argv, flags} = await this.parse(TunnelSsh)
    const dashes = this.argv.indexOf('--')
    const sshArgs = dashes === -1 ? [] : this.argv.slice(dashes + 1)
    if (argv.length !== 1 + sshArgs.length) throw new InputError('ssh options and the remote command go after --: iotctl tunnel ssh <thing> [flags] -- [ssh options] [command]')
    if (flags.wait < 1) throw new InputError(`--wait ${flags.wait}: give at least 1 second`)
    const {sshSession} = await import('../../lib/tunnel/api/ssh.ts')
    const {tunnelScope} = await import('../../lib/tunnel/api/index.ts')
    const {checkThingName, checkTimeoutMinutes} = await import('../../lib/tunnel/api/inputs.ts')
    checkThingName(args.thing, 'thing')
    checkTimeoutMinutes(flags['timeout-minutes'])
    const loaded = this.loadStack(flags)
    const scope = tunnelScope(loaded, await this.account(loaded, 'iot'))
    const proxyFlags = [
      ...(flags.config ? ['-c', resolve(flags.config)] : []),
      ...(flags['proxy-endpoint'] ? ['--proxy-endpoint', flags['proxy-endpoint']] : []),
    ]
    const result = await sshSession(scope, {
      thing: args.thing,
      user: flags.user,
      reuse: flags.reuse,
      keepOpen: flags['keep-open'],
      timeoutMinutes: flags['timeout-minutes'],
      waitMs: flags.wait * 1000,
      sshArgs,
      self: [process.execPath, resolve(this.config.root, 'bin', 'run.js')],
      proxyFlags,
      signal: this.interruption.signal,
      progress: (message) => this.note(message),
    })
    process.exitCode = result.exitCode
    return result
  }
}
