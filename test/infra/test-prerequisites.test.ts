// scripts/test-prerequisites.sh's decisions, on a PATH of fakes: what it finds missing, when it installs
// (root, or sudo without a password) and how, and the sentence and apt-get line it stops with otherwise.
// Nothing is installed: the fake apt-get records its arguments and "installs" by adding fake commands.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { projectRoot } from '../../infra/constructs/bundling.js';

const script = join(projectRoot, 'scripts/test-prerequisites.sh');
const bash = execFileSync('bash', ['-c', 'command -v bash'], { encoding: 'utf8' }).trim();
/** Real commands the fakes need, found before PATH is replaced. */
const [realEnv, realChmod] = execFileSync('bash', ['-c', 'command -v env chmod'], { encoding: 'utf8' }).trim().split('\n');

/** The command each Debian package brings, as the fake apt-get "installs" it. */
const commandOf: Record<string, string> = { chromium: 'chromium', tmux: 'tmux', bsdutils: 'script', xvfb: 'Xvfb', xclip: 'xclip' };
const everything = ['chromium', 'tmux', 'bsdutils', 'xvfb', 'xclip', 'libxtst6'];

interface Machine {
  /** Debian packages present at the start. */
  installed?: string[];
  uid?: number;
  /** 'none': no sudo command; 'password': sudo -n refuses; 'passwordless': sudo runs the command. */
  sudo?: 'none' | 'password' | 'passwordless';
  /** 'empty': apt-get succeeds but brings none of the commands (a PATH that does not reach them). */
  aptGet?: 'works' | 'fails' | 'empty' | 'absent';
  dpkg?: boolean;
  env?: Record<string, string>;
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'prerequisites-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function fake(name: string, body: string): void {
  writeFileSync(join(dir, name), `#!${bash}\n${body}\n`, { mode: 0o755 });
}

function installFake(pkg: string): void {
  if (pkg === 'libxtst6') writeFileSync(join(dir, 'libxtst6.installed'), '');
  else fake(commandOf[pkg]!, 'exit 0');
}

/** Runs the script on a fake machine; `log` is every sudo and apt-get call, one per line. */
function run(machine: Machine): { status: number | null; stderr: string; log: string[] } {
  for (const pkg of machine.installed ?? []) installFake(pkg);
  const log = join(dir, 'calls.log');
  writeFileSync(log, '');
  fake('id', `[ "$1" = -u ] && echo ${machine.uid ?? 1000}`);
  if (!existsSync(join(dir, 'env'))) symlinkSync(realEnv!, join(dir, 'env'));
  if (machine.dpkg ?? true) {
    fake('dpkg-query', `[ -e "${dir}/$4.installed" ] && printf installed || printf not-installed`);
  }
  const sudo = machine.sudo ?? 'none';
  if (sudo !== 'none') {
    fake('sudo', `echo "sudo $*" >> "${log}"\n[ "$1" = -n ] && shift\n${sudo === 'password' ? 'exit 1' : '[ "$1" = true ] && exit 0; exec "$@"'}`);
  }
  const aptGet = machine.aptGet ?? 'works';
  if (aptGet !== 'absent') {
    const install = Object.entries(commandOf)
      .map(([pkg, command]) => `    ${pkg}) printf '#!${bash}\\nexit 0\\n' > "${dir}/${command}"; ${realChmod} +x "${dir}/${command}";;`)
      .join('\n');
    fake(
      'apt-get',
      [
        `echo "apt-get $* DEBIAN_FRONTEND=$DEBIAN_FRONTEND" >> "${log}"`,
        aptGet === 'fails' ? '[ "$1" = install ] && { echo "E: Unable to locate package" >&2; exit 100; }' : '',
        `[ "$1" = install ] && [ ${aptGet} != empty ] || exit 0`,
        'for pkg in "$@"; do',
        '  case "$pkg" in',
        install,
        `    libxtst6) : > "${dir}/libxtst6.installed";;`,
        '  esac',
        'done',
      ].join('\n'),
    );
  }
  const result = spawnSync(bash, [script], { env: { PATH: dir, ...machine.env }, encoding: 'utf8' });
  return { status: result.status, stderr: result.stderr, log: readFileSync(log, 'utf8').split('\n').filter(Boolean) };
}

describe('scripts/test-prerequisites.sh', () => {
  it('does nothing and says nothing when everything is there', () => {
    const { status, stderr, log } = run({ installed: everything, uid: 0 });
    expect(status).toBe(0);
    expect(stderr).toBe('');
    expect(log).toEqual([]);
  });

  it('installs what is missing as root, without prompts, then finds it', () => {
    const { status, log } = run({ installed: ['chromium', 'bsdutils', 'xvfb'], uid: 0 });
    expect(status).toBe(0);
    expect(log).toEqual([
      'apt-get update -qq DEBIAN_FRONTEND=noninteractive',
      'apt-get install -y -qq --no-install-recommends tmux xclip libxtst6 DEBIAN_FRONTEND=noninteractive',
    ]);
    expect(existsSync(join(dir, 'tmux'))).toBe(true);
  });

  it('installs through sudo when sudo needs no password', () => {
    const { status, log } = run({ installed: ['chromium', 'tmux', 'xclip', 'libxtst6'], uid: 1000, sudo: 'passwordless' });
    expect(status).toBe(0);
    expect(log).toEqual([
      'sudo -n true',
      'sudo -n env DEBIAN_FRONTEND=noninteractive apt-get update -qq',
      'apt-get update -qq DEBIAN_FRONTEND=noninteractive',
      'sudo -n env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends bsdutils xvfb',
      'apt-get install -y -qq --no-install-recommends bsdutils xvfb DEBIAN_FRONTEND=noninteractive',
    ]);
  });

  it('stops at once with the exact apt-get line when sudo would ask for a password', () => {
    const { status, stderr, log } = run({ installed: ['tmux', 'bsdutils', 'xvfb', 'libxtst6'], uid: 1000, sudo: 'password' });
    expect(status).toBe(1);
    expect(log).toEqual(['sudo -n true']);
    expect(stderr).toContain('not installed (chromium xclip), and this user may not install them');
    expect(stderr).toContain('\n  sudo apt-get update && sudo apt-get install -y --no-install-recommends chromium xclip\n');
  });

  it('gives the line without sudo where there is no sudo', () => {
    const { status, stderr } = run({ installed: ['chromium', 'tmux', 'bsdutils', 'xclip', 'libxtst6'], uid: 1000 });
    expect(status).toBe(1);
    expect(stderr).toContain('Run this as root, then npm test again:\n  apt-get update && apt-get install -y --no-install-recommends xvfb\n');
  });

  it('says so when apt-get fails', () => {
    const { status, stderr } = run({ installed: ['chromium', 'tmux', 'bsdutils', 'xvfb', 'libxtst6'], uid: 0, aptGet: 'fails' });
    expect(status).toBe(1);
    expect(stderr).toContain('apt-get could not install xclip (its message is above)');
  });

  it('checks again after installing', () => {
    const { status, stderr } = run({ installed: ['chromium', 'bsdutils', 'xvfb', 'xclip', 'libxtst6'], uid: 0, aptGet: 'empty' });
    expect(status).toBe(1);
    expect(stderr).toContain('apt-get installed tmux, yet tmux still cannot be found');
  });

  it('names what is missing where there is no apt-get', () => {
    const { status, stderr } = run({ installed: ['chromium', 'bsdutils', 'xvfb', 'xclip'], uid: 0, aptGet: 'absent', dpkg: false });
    expect(status).toBe(1);
    expect(stderr).toContain('missing (tmux), and this machine has no apt-get');
  });

  it('takes CHROMIUM_PATH instead of the chromium package, and refuses one that is not there', () => {
    const others = ['tmux', 'bsdutils', 'xvfb', 'xclip', 'libxtst6'];
    fake('my-chromium', 'exit 0');
    expect(run({ installed: others, uid: 1000, env: { CHROMIUM_PATH: join(dir, 'my-chromium') } }).status).toBe(0);
    const { status, stderr, log } = run({ installed: others, uid: 0, env: { CHROMIUM_PATH: join(dir, 'nowhere') } });
    expect(status).toBe(1);
    expect(stderr).toContain('which is not an executable file');
    expect(log).toEqual([]);
  });
});
