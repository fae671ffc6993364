// Clipboard text from a technician at a terminal (`assist join`) to the person (`assist invite --desktop
// --clipboard`), each on their own X display (Xvfb) with their own clipboard: the technician sends what
// is on their clipboard (Ctrl-] then v, or the send-clipboard command, with or without text), and an
// X program on the person's display reads it there. Nothing moves once the person stops sharing it.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ASSIST_BIN, useAssist, type AssistProcess } from '../support/cli.js';
import { useLocalRuntime } from '../support/runtime.js';
import { copyOnX, startXDisplay, xClipboard, type XDisplay } from '../support/x-display.js';
import { Tmux } from '../cli/tmux.js';

const runtime = useLocalRuntime();
const { start } = useAssist(() => runtime().httpUrl);
const tmux = new Tmux();
let personDisplay: XDisplay;
let technicianDisplay: XDisplay;

beforeAll(async () => {
  [personDisplay, technicianDisplay] = await Promise.all([startXDisplay({ width: 640, height: 400 }), startXDisplay({ width: 320, height: 200 })]);
});
afterAll(async () => {
  await tmux.close();
  await personDisplay?.close();
  await technicianDisplay?.close();
});

/** The person, sharing their (empty) desktop and clipboard, in scripting mode. */
async function personSharingClipboard(): Promise<{ agent: AssistProcess; password: string }> {
  const agent = start(['invite', '--easy-connect', '--desktop', '--clipboard', '--name', 'Ada', '--json', '--relay', runtime().httpUrl], {
    env: { ...process.env, ...personDisplay.env },
  });
  const { password } = await agent.next('invitation');
  return { agent, password: password as string };
}

async function approved(agent: AssistProcess): Promise<void> {
  await agent.next('connected');
  agent.send({ cmd: 'approve', mode: 'view' });
  expect(await agent.next('clipboard-allowed')).toEqual({ event: 'clipboard-allowed', allowed: true });
}

it('a scripted technician sends its own clipboard or a given text; the person’s X clipboard has it; not once the person stops sharing it', async () => {
  const { agent, password } = await personSharingClipboard();
  const technician = start(['join', password, '--name', 'Bob', '--json', '--relay', runtime().httpUrl], { env: { ...process.env, ...technicianDisplay.env } });
  await approved(agent);
  expect(await technician.next('clipboard-allowed')).toEqual({ event: 'clipboard-allowed', allowed: true });

  const copied = 'from Bob’s clipboard: ✓ ünïcode';
  await copyOnX(technicianDisplay, copied);
  technician.send({ cmd: 'send-clipboard' });
  expect(await technician.next('clipboard')).toEqual({ event: 'clipboard', direction: 'sent', characters: [...copied].length });
  expect(await agent.next('clipboard')).toEqual({ event: 'clipboard', direction: 'received', characters: [...copied].length });
  await expect.poll(() => xClipboard(personDisplay)).toBe(copied);

  technician.send({ cmd: 'send-clipboard', text: 'sudo systemctl restart cups' });
  expect(await technician.next('clipboard')).toEqual({ event: 'clipboard', direction: 'sent', characters: 27 });
  await expect.poll(() => xClipboard(personDisplay)).toBe('sudo systemctl restart cups');

  // The person's side has no such command: their copies go by themselves.
  agent.send({ cmd: 'send-clipboard', text: 'x' });
  expect(await agent.next('error')).toMatchObject({ code: 'wrong-side', message: expect.stringContaining('send-clipboard is for the technician') });

  agent.send({ cmd: 'clipboard', allowed: false });
  expect(await technician.next('clipboard-allowed')).toEqual({ event: 'clipboard-allowed', allowed: false });
  technician.send({ cmd: 'send-clipboard', text: 'not wanted' });
  expect(await technician.next('error')).toEqual({
    event: 'error',
    code: 'clipboard-not-shared',
    message: 'Ada does not share their clipboard: ask them to share it (Ctrl-] then b in their assist command), then send again',
  });
  expect(await xClipboard(personDisplay)).toBe('sudo systemctl restart cups');
});

it('the technician at a terminal puts their clipboard on the person’s with Ctrl-] then v', async () => {
  const { agent, password } = await personSharingClipboard();
  const env = { TERM: 'xterm-256color', LANG: 'C.UTF-8', DISPLAY: technicianDisplay.display, XDG_SESSION_TYPE: 'x11' };
  await tmux.start('technician', [process.execPath, ASSIST_BIN, 'join', password, '--name', 'Bob', '--relay', runtime().httpUrl], { cols: 120, rows: 40 }, env);
  await approved(agent);
  await tmux.waitFor('technician', /Ada shares their clipboard: Ctrl-\] then v puts the text on your clipboard on theirs/);

  await copyOnX(technicianDisplay, 'lpstat -p');
  await tmux.press('technician', 'C-]');
  await tmux.waitFor('technician', /r ask for control · v send your clipboard · m message/);
  await tmux.press('technician', 'v');
  await tmux.waitFor('technician', /Put the 9 characters on your clipboard on Ada's clipboard\./);
  expect(await agent.next('clipboard')).toEqual({ event: 'clipboard', direction: 'received', characters: 9 });
  await expect.poll(() => xClipboard(personDisplay)).toBe('lpstat -p');
  agent.send({ cmd: 'end' });
  expect(await tmux.waitForExit('technician')).toBe(0);
});
