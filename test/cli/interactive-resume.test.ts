// `assist resume` through the human interface, in a real terminal (tmux): the person's assist process
// is killed mid-session, the technician (scripting mode) is told, `assist resume` in a new terminal says
// where the session stands and starts the shell anew, and typing goes on.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';
import { ASSIST_BIN, base64, useAssist } from '../support/cli.js';
import { useLocalRuntime } from '../support/runtime.js';
import { Tmux } from './tmux.js';

const run = promisify(execFile);
const runtime = useLocalRuntime();
const { assist } = useAssist(() => runtime().httpUrl);
const tmux = new Tmux();
afterAll(() => tmux.close());

const shell = ['--command', 'PS1="shared$ " bash --norc --noprofile'];
const env = { TERM: 'xterm-256color', LANG: 'C.UTF-8', XDG_STATE_HOME: process.env.XDG_STATE_HOME! };
const size = { cols: 100, rows: 40 };

/** The assist process in a pane (the pane runs a reporting shell around it). */
async function assistPid(pane: string): Promise<number> {
  const { stdout } = await run('tmux', ['-L', tmux.socket, 'display-message', '-p', '-t', pane, '#{pane_pid}']);
  const { stdout: children } = await run('pgrep', ['-P', stdout.trim()]);
  return Number(children.trim().split('\n')[0]);
}

it('the person’s assist is killed; assist resume brings them back into the session in a new terminal', async () => {
  await tmux.start('agent', [process.execPath, ASSIST_BIN, 'invite', '--easy-connect', '--name', 'Ada', ...shell, '--relay', runtime().httpUrl], size, env);
  const [, password] = await tmux.waitFor('agent', /^ {4}([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})$/m);
  const technician = assist('join', password!, '--name', 'Bob');
  await tmux.waitFor('agent', /Press v, c or d:/);
  await tmux.press('agent', 'c');
  await technician.next('approved');

  process.kill(await assistPid('agent'), 'SIGKILL');
  expect(await technician.next('peer')).toEqual({ event: 'peer', state: 'disconnected' });

  await tmux.start('again', [process.execPath, ASSIST_BIN, 'resume'], size, env);
  await tmux.waitFor('again', /Back in your session with Bob, as it was \(they have control\)\./);
  expect(await technician.next('peer')).toEqual({ event: 'peer', state: 'connected' });
  await tmux.waitFor('again', /shared\$ $/m);
  technician.send({ cmd: 'input', data: base64('echo resumed-$((5*5))\r') });
  await tmux.waitFor('again', /^resumed-25$/m);
  await technician.next('output', () => technician.output.includes('resumed-25'));

  technician.send({ cmd: 'end' });
  await tmux.waitFor('again', /What you shared still runs here/);
  await tmux.type('again', 'exit');
  await tmux.press('again', 'Enter');
  expect(await tmux.waitForExit('again')).toBe(0);
});
