// `assist` without a relay: help texts, wrong arguments and their exit status.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_FPS, MAX_FPS_LIMIT } from '../../cli/desktop/desktop-share.js';
import { SIZE_RULE_FPS } from '../../cli/desktop/encode-size.js';
import { ASSIST_BIN } from '../support/cli.js';

function assist(...args: string[]) {
  return assistWith({}, ...args);
}

function assistWith(env: NodeJS.ProcessEnv, ...args: string[]) {
  const result = spawnSync(process.execPath, [ASSIST_BIN, ...args], { encoding: 'utf8', env: { ...process.env, ASSIST_RELAY: '', ...env } });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('help', () => {
  it('assist --help names every command and the scripting events and commands', () => {
    const { status, stdout } = assist('--help');
    expect(status).toBe(0);
    for (const text of ['assist invite --easy-connect', 'assist invite --file', 'assist invite --email', 'assist accept', 'assist join', 'assist offer']) {
      expect(stdout).toContain(text);
    }
    for (const event of ['invitation', 'connected', 'approved', 'denied', 'control', 'paused', 'resumed', 'output', 'chat', 'ended', 'error']) {
      expect(stdout).toContain(event);
    }
    for (const command of ['approve', 'deny', 'input', 'request-control', 'grant-control', 'revoke-control', 'refuse-control', 'pause', 'resume', 'end']) {
      expect(stdout).toContain(command);
    }
  });

  it('assist invite --help gives the frame-rate cap and the rate the picture is kept large for, as the share uses them', () => {
    const { stdout } = assist('invite', '--help');
    expect(stdout.replace(/\s+/g, ' ')).toContain(`at most N pictures a second (default ${DEFAULT_MAX_FPS}, at most ${MAX_FPS_LIMIT})`);
    expect(stdout.replace(/\s+/g, ' ')).toContain(`smaller only when it cannot come ${SIZE_RULE_FPS} times a second (or N, if lower)`);
  });

  it.each([
    ['invite', ['--easy-connect', '--file', '--email', '--expires-in', '--command', '--desktop', '--monitor N', '--max-fps N', '--codec vp8|h264', '--relay', '--json']],
    ['accept', ['CODE', '--command', '--desktop', '--monitor N', '--max-fps N', '--codec vp8|h264', '--relay', '--json']],
    ['monitors', ['--json', 'X11', 'Wayland', 'Screen Recording']],
    ['join', ['PASSWORD', 'FILE', 'URL', '--password', '--relay', '--json']],
    ['offer', ['--expires-in', '--relay', '--json']],
    ['enrol', ['--token', '--relay', '--name', '--json', 'device.json', 'npm run operator -- enrolment-token']],
    ['agent', ['--json', 'device-not-enrolled', 'systemd']],
  ])('assist %s --help teaches its options with examples', (command, options) => {
    for (const args of [[command, '--help'], [command, '-h'], ['help', command]]) {
      const { status, stdout } = assist(...args);
      expect(status).toBe(0);
      expect(stdout).toMatch(new RegExp(`^assist ${command}:`));
      for (const option of options) expect(stdout).toContain(option);
      expect(stdout).toContain(`Examples:\n  assist ${command}`);
    }
  });

  it('without a command it shows the help and exits 2', () => {
    const { status, stdout } = assist();
    expect(status).toBe(2);
    expect(stdout).toContain('assist invite');
  });
});

describe('wrong arguments', () => {
  it.each([
    [['frobnicate'], 'unknown command "frobnicate"'],
    [['invite'], 'say how to invite'],
    [['invite', '--easy-connect', '--file', 'x'], '--easy-connect goes alone'],
    [['invite', '--easy-connect', '--expires-in', 'soon'], '--expires-in takes a duration'],
    [['invite', '--easy-connect', 'extra'], 'unexpected argument "extra"'],
    [['invite', '--bogus'], "Unknown option '--bogus'"],
    [['join'], 'missing the invitation'],
    [['accept'], 'missing the helper code'],
    [['join', 'a', 'b'], 'unexpected argument "b"'],
    [['invite', '--easy-connect', '--monitor', '2'], '--monitor, --max-fps, --codec and --clipboard go with --desktop'],
    [['accept', 'CODE', '--max-fps', '5'], '--monitor, --max-fps, --codec and --clipboard go with --desktop'],
    [['invite', '--easy-connect', '--clipboard'], '--monitor, --max-fps, --codec and --clipboard go with --desktop'],
    [['invite', '--easy-connect', '--desktop', '--max-fps', '60'], '--max-fps takes a whole number from 1 to 30, not "60"'],
    [['invite', '--easy-connect', '--desktop', '--monitor', 'left'], '--monitor takes a monitor number'],
    [['invite', '--easy-connect', '--codec', 'vp8'], '--monitor, --max-fps, --codec and --clipboard go with --desktop'],
    [['accept', 'CODE', '--desktop', '--codec', 'vp9'], '--codec takes h264 or vp8, not "vp9"'],
    [['login', '--operator-key', 'not-a-fingerprint'], '--operator-key takes the operator key\'s fingerprint (22 letters, digits, - and _'],
    // A fingerprint can begin with -: given apart, it reads as an option (the help says to write it with =).
    [['login', '--operator-key', '-0123456789abcdefghijk'], "Option '--operator-key' argument is ambiguous"],
    [['monitors', 'extra'], 'unexpected argument "extra"'],
    [['enrol', '--relay', 'http://127.0.0.1:9'], 'give the enrolment token the operator made: --token TOKEN'],
    [['enrol', '--token', 'T'], 'say which relay to enrol with: --relay URL'],
  ])('assist %j: a clear line on stderr, the help, exit 2, nothing on stdout', (args, message) => {
    const { status, stdout, stderr } = assist(...args);
    expect(status).toBe(2);
    expect(stdout).toBe('');
    expect(stderr.split('\n')[0]).toContain(message);
    expect(stderr).toContain('Examples:');
  });

  it('takes a fingerprint that begins with - when written with =', () => {
    // Past the arguments, it stops only at the relay, which is not there.
    const { status, stderr } = assist('login', '--relay', 'http://127.0.0.1:9', '--operator-key=-0123456789abcdefghijk');
    expect(status).toBe(1);
    expect(stderr).not.toContain('--operator-key');
  });

  it.each<[string, string[], { input?: string; env?: Record<string, string> }, string]>([
    ['typed at the prompt or piped in as -', ['join', '-'], { input: '/nonexistent/piped.assistinvite\n' }, 'no invitation file at /nonexistent/piped.assistinvite'],
    ['in $ASSIST_INVITATION', ['join'], { env: { ASSIST_INVITATION: '/nonexistent/env.assistinvite' } }, 'no invitation file at /nonexistent/env.assistinvite'],
    ['a helper code as -', ['accept', '-'], { input: 'not a code at all\n' }, 'the code has 13 symbols'],
  ])('the invitation can stay out of argv (ps): %s', (_how, args, options, message) => {
    const result = spawnSync(process.execPath, [ASSIST_BIN, ...args], {
      encoding: 'utf8',
      input: options.input ?? '',
      env: { ...process.env, ASSIST_RELAY: 'http://127.0.0.1:9', ...options.env },
    });
    expect(result.stderr.toLowerCase()).toContain(message.toLowerCase());
    expect(result.status).toBe(1);
  });

  it('- with --json is refused: stdin carries the commands', () => {
    const { status, stderr } = assist('join', '-', '--json');
    expect(status).toBe(2);
    expect(stderr).toContain('set ASSIST_INVITATION instead');
  });

  it('an invitation file that does not exist is named', () => {
    const { status, stderr } = assist('join', '/nonexistent/help.assistinvite');
    expect(status).toBe(1);
    expect(stderr).toContain('no invitation file at /nonexistent/help.assistinvite');
  });
});

describe('a desktop that cannot be shared', () => {
  it('is refused before any invitation, with what to do: no X display, or a Wayland session', () => {
    for (const [env, message] of [
      [{ DISPLAY: '', WAYLAND_DISPLAY: '', XDG_SESSION_TYPE: '' }, 'no X display here ($DISPLAY is not set'],
      [{ DISPLAY: ':0', XDG_SESSION_TYPE: 'wayland' }, 'this is a Wayland session: desktop sharing needs X11'],
    ] as const) {
      const { status, stdout, stderr } = assistWith(env, 'invite', '--easy-connect', '--desktop', '--relay', 'http://127.0.0.1:9');
      expect(status).toBe(1);
      expect(stderr).toContain(message);
      expect(stdout).not.toContain('password');
    }
  });

  it('a $DISPLAY no X server answers at is named, with what to do, not the X library\'s words', () => {
    // Display 4093: its socket, /tmp/.X11-unix/X4093, is nobody's.
    for (const args of [['monitors'], ['invite', '--easy-connect', '--desktop', '--relay', 'http://127.0.0.1:9']]) {
      const { status, stdout, stderr } = assistWith({ DISPLAY: ':4093', WAYLAND_DISPLAY: '', XDG_SESSION_TYPE: '' }, ...args);
      expect(status).toBe(1);
      expect(stderr).toContain('the X display :4093 does not answer');
      expect(stderr).toContain('share the terminal only');
      expect(stdout).not.toContain('password');
    }
  });

  it('assist monitors says the same, in both modes', () => {
    const human = assistWith({ DISPLAY: '', XDG_SESSION_TYPE: '' }, 'monitors');
    expect(human.status).toBe(1);
    expect(human.stderr).toContain('no X display here');
    const json = assistWith({ DISPLAY: ':0', XDG_SESSION_TYPE: 'wayland' }, 'monitors', '--json');
    expect(json.status).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ event: 'error', code: 'wayland' });
  });
});
