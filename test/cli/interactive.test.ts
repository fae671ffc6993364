// One full session through the human interface, in real terminals (tmux): the person invites with
// Easy Connect, the technician joins with the password read off the screen, both see the same
// verification code, the person lets the technician type, they chat, pause, resize, take control back,
// refuse it when asked again, and end; the person's shell runs on until they exit it; both commands exit 0.
import { afterAll, expect, it } from 'vitest';
import { ASSIST_BIN } from '../support/cli.js';
import { useLocalRuntime } from '../support/runtime.js';
import { Tmux } from './tmux.js';

const runtime = useLocalRuntime();
const tmux = new Tmux();
afterAll(() => tmux.close());

const assist = (...args: string[]) => [process.execPath, ASSIST_BIN, ...args, '--relay', runtime().httpUrl];
// A plain shell with a known prompt, so the screens are predictable.
const shell = ['--command', 'PS1="shared$ " bash --norc --noprofile'];
const env = { TERM: 'xterm-256color', LANG: 'C.UTF-8' };

it('runs a whole session between two terminals', async () => {
  await tmux.start('agent', assist('invite', '--easy-connect', '--name', 'Ada', ...shell), { cols: 100, rows: 40 }, env);
  const [, password] = await tmux.waitFor('agent', /^ {4}([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})$/m);
  await tmux.waitFor('agent', /Waiting for your technician to connect… \d+:\d\d left/);

  await tmux.start('expert', assist('join', password!, '--name', 'Bob'), { cols: 100, rows: 40 }, env);
  const [, agentCode] = await tmux.waitFor('agent', /Verification code: +(\d{3} \d{3})/);
  const [, expertCode] = await tmux.waitFor('expert', /Verification code: +(\d{3} \d{3})/);
  expect(expertCode).toBe(agentCode);
  await tmux.waitFor('agent', /Bob is connecting to help you[\s\S]*Press v, c or d:/);

  await tmux.press('agent', 'c');
  await tmux.waitFor('expert', /Ada let you in: you can watch and type\.[\s\S]*--- Ada's terminal ---/);
  await tmux.waitFor('expert', /shared\$ $/m);

  // The technician types; the command runs in the person's shell, and both see it.
  await tmux.type('expert', 'echo "answer: $((6*7)) ✓"');
  await tmux.press('expert', 'Enter');
  await tmux.waitFor('agent', /^answer: 42 ✓$/m);
  await tmux.waitFor('expert', /^answer: 42 ✓$/m);

  // Chat both ways: Ctrl-] m opens the message line.
  await tmux.press('expert', 'C-]', 'm');
  await tmux.waitFor('expert', /message \(Enter sends, Esc cancels\):/);
  await tmux.type('expert', 'Grüße von Bob');
  await tmux.press('expert', 'Enter');
  await tmux.waitFor('agent', /\[assist\] Bob: Grüße von Bob/);
  await tmux.press('agent', 'C-]', 'm');
  await tmux.type('agent', 'thanks');
  await tmux.press('agent', 'Enter');
  await tmux.waitFor('expert', /\[assist\] Ada: thanks/);

  // Pause: what the person types now is not shown to the technician.
  await tmux.press('agent', 'C-]', 'p');
  await tmux.waitFor('expert', /Ada paused the session/);
  await tmux.type('agent', 'echo private-$((1+1))');
  await tmux.press('agent', 'Enter');
  await tmux.waitFor('agent', /^private-2$/m);
  await tmux.press('agent', 'C-]', 'p');
  await tmux.waitFor('expert', /Ada resumed the session/);

  // The person's window grows: the shared terminal follows, the technician is told.
  await tmux.resize('agent', { cols: 120, rows: 45 });
  await tmux.waitFor('expert', /Ada's terminal is 120×45, yours is 100×40/);
  await tmux.type('agent', 'stty size');
  await tmux.press('agent', 'Enter');
  await tmux.waitFor('expert', /^45 120$/m);

  // Control taken back: the technician's keys no longer go through.
  await tmux.press('agent', 'C-]', 'c');
  await tmux.waitFor('expert', /Ada took control back: you can only watch/);
  await tmux.type('expert', 'x');
  await tmux.waitFor('expert', /You can only watch: your keys are not sent/);
  await tmux.press('expert', 'C-]', 'r');
  await tmux.waitFor('agent', /Bob asks for control of your terminal/);
  await tmux.press('agent', 'C-]', 'n');
  await tmux.waitFor('expert', /Ada said no to control: you can still watch/);

  await tmux.press('agent', 'C-]', 'e');
  await tmux.waitFor('agent', /You ended the session\./);
  await tmux.waitFor('expert', /Ada ended the session\./);
  expect(await tmux.waitForExit('expert')).toBe(0);

  // The shell is the person's: it runs on, no longer shared, until they leave it.
  await tmux.waitFor('agent', /What you shared still runs here, and nobody else sees it any more\./);
  await tmux.type('agent', 'echo after-$((2+2))');
  await tmux.press('agent', 'Enter');
  await tmux.waitFor('agent', /^after-4$/m);
  await tmux.type('agent', 'exit');
  await tmux.press('agent', 'Enter');
  await tmux.waitFor('agent', /Your program exited\./);
  expect(await tmux.waitForExit('agent')).toBe(0);
  expect(await tmux.screen('expert')).not.toContain('after-4');
  expect(await tmux.screen('expert')).not.toContain('private-2');
});
