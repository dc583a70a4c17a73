// How `tunnel ssh` builds ssh's command line: the ProxyCommand first (ssh keeps
// the first value of an option), the user's options, the thing, the command.
import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {InputError} from '../../src/lib/errors.ts'
import {proxyCommandValue, shellQuote, splitSshArgs, sshArguments} from '../../src/lib/tunnel/api/ssh.ts'

describe('splitting what follows -- into ssh options and the remote command', () => {
  const cases: [string[], string[], string[]][] = [
    [[], [], []],
    [['uptime'], [], ['uptime']],
    [['echo', 'hello'], [], ['echo', 'hello']],
    [['-i', 'key', '-o', 'A=b', 'echo', '-n', 'x'], ['-i', 'key', '-o', 'A=b'], ['echo', '-n', 'x']],
    [['-p2222', '-vvv', '-tt', 'top'], ['-p2222', '-vvv', '-tt'], ['top']],
    [['-NL', '8080:localhost:80'], ['-NL', '8080:localhost:80'], []],
    [['-4A', '-F', '/dev/null', '--', '-weird-command'], ['-4A', '-F', '/dev/null'], ['-weird-command']],
    [['-oBatchMode=yes', 'ls', '-l'], ['-oBatchMode=yes'], ['ls', '-l']],
  ]
  for (const [args, options, command] of cases) {
    test(JSON.stringify(args), () => assert.deepEqual(splitSshArgs(args), {options, command}))
  }
  test('an option without its value, and an unknown option, are refused', () => {
    assert.throws(() => splitSshArgs(['-i']), (e: unknown) => e instanceof InputError && e.message.includes('ssh option -i needs a value'))
    assert.throws(() => splitSshArgs(['-Z']), (e: unknown) => e instanceof InputError && e.message.includes('-Z is not an ssh option'))
  })
})

describe('the ProxyCommand', () => {
  test('words are quoted for the shell ssh runs it with, and % is doubled for ssh\'s tokens', () => {
    assert.equal(shellQuote('/usr/bin/node'), '/usr/bin/node')
    assert.equal(shellQuote('/opt/my tools/iotctl'), `'/opt/my tools/iotctl'`)
    assert.equal(shellQuote(`it's`), `'it'\\''s'`)
    assert.equal(proxyCommandValue(['/n/node', '/a b/run.js', 'tunnel', 'proxy', '--tunnel-id', 'x']), `/n/node '/a b/run.js' tunnel proxy --tunnel-id x`)
    assert.equal(proxyCommandValue(['/home/100%/run.js']), '/home/100%%/run.js')
  })

  test('ssh arguments: ProxyCommand, the user\'s options, user@thing, the command', () => {
    assert.deepEqual(sshArguments({
      thing: 'dev1',
      user: 'pi',
      proxyCommand: ['/usr/bin/node', '/opt/iotctl/bin/run.js', 'tunnel', 'proxy', '--tunnel-id', 't-1', '--service', 'SSH'],
      sshArgs: ['-i', '/keys/dev1', 'uptime'],
    }), [
      '-o', 'ProxyCommand=/usr/bin/node /opt/iotctl/bin/run.js tunnel proxy --tunnel-id t-1 --service SSH',
      '-i', '/keys/dev1',
      'pi@dev1',
      'uptime',
    ])
    assert.deepEqual(sshArguments({thing: 'dev1', proxyCommand: ['p'], sshArgs: []}), ['-o', 'ProxyCommand=p', 'dev1'])
  })
})
