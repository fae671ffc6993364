// Both sides of `assist` in scripting mode (--json), as child processes against the local runtime:
// every invitation channel, approval and denial, control, pause, chat, the end by either side,
// expiry, and the JSON-lines contract itself (nothing else on stdout, exit codes).
import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readOutboxMessage } from '../../infra/local/mail-outbox.js';
import { requestHelp } from '../../sdk/node.js';
import { fastAssistOptions } from '../support/assist.js';
import { base64, expectCleanExit, hangUpAfterEnd, useAssist, type AssistProcess, type JsonEvent } from '../support/cli.js';
import { useLocalRuntime } from '../support/runtime.js';

const runtime = useLocalRuntime({
  // Expiry is noticed by the sweep; a fast one lets the expiry test wait for the event alone.
  sweepIntervalMs: 200,
  policy: { joinsPerSourceIp: 10_000, invitationsPerSourceIp: 10_000 },
});

const { assist, start } = useAssist(() => runtime().httpUrl);

/** Echoes what it reads, so input shows up as output. */
const ECHO = ['--command', 'cat'];

async function connected(agent: AssistProcess, expert: AssistProcess): Promise<string> {
  const [agentSees, expertSees] = await Promise.all([agent.next('connected'), expert.next('connected')]);
  expect(agentSees).toEqual({ event: 'connected', peer: 'Bob', verification: expect.stringMatching(/^\d{6}$/) });
  expect(expertSees).toEqual({ event: 'connected', peer: 'Ada', verification: agentSees.verification });
  return agentSees.verification as string;
}

/** Waits until the terminal output the expert received contains `text` (`times` times). */
function expertSees(expert: AssistProcess, text: string, times = 1): Promise<JsonEvent> {
  return expert.next('output', () => expert.output.split(text).length > times);
}

describe('Easy Connect, end to end', () => {
  it('connects, approves view, hands control over and back, pauses, chats, and the expert ends', async () => {
    const agent = assist('invite', '--easy-connect', '--name', 'Ada', ...ECHO);
    const invitation = await agent.next('invitation');
    expect(invitation).toEqual({
      event: 'invitation',
      kind: 'easy-connect',
      password: expect.stringMatching(/^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/),
      expiresAt: expect.any(String),
      maxFailedAttempts: 3,
    });
    expect(Date.parse(invitation.expiresAt as string)).toBeGreaterThan(Date.now());

    // Typed the way people read it out: lower case, spaces.
    const spoken = (invitation.password as string).toLowerCase().replaceAll('-', ' ');
    const expert = assist('join', spoken, '--name', 'Bob');
    await connected(agent, expert);

    agent.send({ cmd: 'approve', mode: 'view' });
    expect(await expert.next('approved')).toEqual({ event: 'approved', mode: 'view' });
    expect(await agent.next('approved')).toEqual({ event: 'approved', mode: 'view' });
    expect(await expert.next('terminal-share')).toEqual({ event: 'terminal-share', state: 'started' });
    expect(await expert.next('resize')).toEqual({ event: 'resize', cols: 80, rows: 24 });

    // Viewing only: keystrokes are refused on the expert's side.
    expert.send({ cmd: 'input', data: base64('not allowed\n') });
    expect(await expert.next('error')).toMatchObject({ code: 'no-control' });

    // Asked and refused, asked again and granted.
    expert.send({ cmd: 'request-control' });
    await agent.next('control-requested');
    agent.send({ cmd: 'refuse-control' });
    expect(await expert.next('control')).toEqual({ event: 'control', state: 'refused' });
    expect(await agent.next('control')).toEqual({ event: 'control', state: 'refused' });
    expert.send({ cmd: 'request-control' });
    await agent.next('control-requested');
    agent.send({ cmd: 'grant-control' });
    expect(await expert.next('control')).toEqual({ event: 'control', state: 'granted' });
    expect(await agent.next('control')).toEqual({ event: 'control', state: 'granted' });

    expert.send({ cmd: 'input', data: base64('grüße ✓\n') });
    await expertSees(expert, 'grüße ✓\r\ngrüße ✓\r\n'); // the pty's echo, then cat's
    await agent.next('output', () => agent.output.includes('grüße ✓\r\ngrüße ✓\r\n'));

    expert.send({ cmd: 'chat', text: 'Hallo, ich übernehme 👋' });
    expect(await agent.next('chat')).toEqual({ event: 'chat', text: 'Hallo, ich übernehme 👋' });
    agent.send({ cmd: 'chat', text: 'Danke!' });
    expect(await expert.next('chat')).toEqual({ event: 'chat', text: 'Danke!' });

    agent.send({ cmd: 'revoke-control' });
    expect(await expert.next('control')).toEqual({ event: 'control', state: 'revoked' });
    expert.send({ cmd: 'input', data: base64('after revoke\n') });
    expect(await expert.next('error')).toMatchObject({ code: 'no-control' });

    // Paused: what the person types is not shown to the expert; after resuming it is again.
    agent.send({ cmd: 'pause' });
    await expert.next('paused');
    await agent.next('paused');
    agent.send({ cmd: 'input', data: base64('secret while paused\n') });
    await agent.next('output', () => agent.output.includes('secret while paused\r\nsecret while paused'));
    agent.send({ cmd: 'resume' });
    await expert.next('resumed');
    agent.send({ cmd: 'input', data: base64('visible again\n') });
    await expertSees(expert, 'visible again\r\nvisible again');
    expect(expert.output).not.toContain('secret while paused');
    expect(expert.output).not.toContain('after revoke');

    expert.send({ cmd: 'end' });
    expect(await expert.next('ended')).toEqual({ event: 'ended', reason: 'ended-by-expert' });
    expect(await agent.next('ended')).toEqual({ event: 'ended', reason: 'ended-by-expert' });
    await expectCleanExit(expert, 0);
    await hangUpAfterEnd(agent);
  });

  it('approving with control lets the expert type at once; the agent ends, and both exit 0', async () => {
    const agent = assist('invite', '--easy-connect', '--name', 'Ada', ...ECHO);
    const expert = assist('join', (await agent.next('invitation')).password as string, '--name', 'Bob');
    await connected(agent, expert);
    agent.send({ cmd: 'approve', mode: 'control' });
    expect(await expert.next('approved')).toEqual({ event: 'approved', mode: 'control' });
    expect(await expert.next('control')).toEqual({ event: 'control', state: 'granted' });
    expert.send({ cmd: 'input', data: base64('typed by Bob\n') });
    await expertSees(expert, 'typed by Bob\r\ntyped by Bob');
    agent.send({ cmd: 'end' });
    expect(await agent.next('ended')).toEqual({ event: 'ended', reason: 'ended-by-agent' });
    expect(await expert.next('ended')).toEqual({ event: 'ended', reason: 'ended-by-agent' });
    await hangUpAfterEnd(agent);
    await expectCleanExit(expert, 0);
  });

  it('denying ends the session: the expert hears why and exits non-zero, the agent exits 0', async () => {
    const agent = assist('invite', '--easy-connect', '--name', 'Ada', ...ECHO);
    const expert = assist('join', (await agent.next('invitation')).password as string, '--name', 'Bob');
    await connected(agent, expert);
    agent.send({ cmd: 'deny' });
    await agent.next('denied');
    await expert.next('denied');
    expect(await expert.next('ended')).toEqual({ event: 'ended', reason: 'denied' });
    expect(await agent.next('ended')).toEqual({ event: 'ended', reason: 'denied' });
    await expectCleanExit(expert, 1);
    expect(expert.stderr).toContain('denied');
    await expectCleanExit(agent, 0);
  });

  it('the shared command exiting ends the session after all its output has arrived', async () => {
    const agent = assist('invite', '--easy-connect', '--name', 'Ada', '--command', 'read line; echo "got $line"; exit 3');
    const expert = assist('join', (await agent.next('invitation')).password as string, '--name', 'Bob');
    await connected(agent, expert);
    agent.send({ cmd: 'approve', mode: 'control' });
    await expert.next('control');
    expert.send({ cmd: 'input', data: base64('ünïcode\n') });
    expect(await expert.next('ended')).toEqual({ event: 'ended', reason: 'ended-by-agent' });
    expect(expert.output).toContain('got ünïcode\r\n');
    await expectCleanExit(expert, 0);
    await expectCleanExit(agent, 0);
  });

  it('closing stdin ends the session, like {"cmd":"end"}', async () => {
    const agent = assist('invite', '--easy-connect', '--name', 'Ada', ...ECHO);
    const expert = assist('join', (await agent.next('invitation')).password as string, '--name', 'Bob');
    await connected(agent, expert);
    agent.send({ cmd: 'approve', mode: 'view' });
    await expert.next('approved');
    agent.child.stdin.end();
    expect(await expert.next('ended')).toEqual({ event: 'ended', reason: 'ended-by-agent' });
    await expectCleanExit(agent, 0);
  });

  it('a kill (SIGTERM) ends the session in order for both sides', async () => {
    const agent = assist('invite', '--easy-connect', '--name', 'Ada', ...ECHO);
    const expert = assist('join', (await agent.next('invitation')).password as string, '--name', 'Bob');
    await connected(agent, expert);
    agent.send({ cmd: 'approve', mode: 'view' });
    await expert.next('approved');
    expert.child.kill('SIGTERM');
    expect(await agent.next('ended')).toEqual({ event: 'ended', reason: 'ended-by-expert' });
    await expectCleanExit(expert, 0);
    await hangUpAfterEnd(agent);
  });

  /** The person shares `command` (which prints "ready"), the technician watches and leaves: the program runs on. */
  async function technicianLeavesWhileRunning(command: string) {
    const agent = assist('invite', '--easy-connect', '--name', 'Ada', '--command', command);
    const expert = assist('join', (await agent.next('invitation')).password as string, '--name', 'Bob');
    await connected(agent, expert);
    agent.send({ cmd: 'approve', mode: 'view' });
    await expertSees(expert, 'ready');
    expert.send({ cmd: 'end' });
    expect(await agent.next('ended')).toEqual({ event: 'ended', reason: 'ended-by-expert' });
    expect(await agent.next('still-running')).toEqual({ event: 'still-running' });
    return { agent, expert };
  }

  it('the technician leaving does not hang up the person’s program: it runs on, no longer shared, until the person exits it', async () => {
    const { agent, expert } = await technicianLeavesWhileRunning(`trap 'echo got-hangup' HUP; echo ready; while read line; do echo "you said $line"; [ "$line" = bye ] && exit 0; done`);
    await expectCleanExit(expert, 0);
    agent.send({ cmd: 'input', data: base64('unsaved work\n') });
    await agent.next('output', () => agent.output.includes('you said unsaved work'));
    // Ending is the program's business now; end alone says how.
    agent.send({ cmd: 'end' });
    expect(await agent.next('error')).toMatchObject({ code: 'session-over' });
    agent.send({ cmd: 'input', data: base64('bye\n') });
    expect(await agent.next('program-exited')).toEqual({ event: 'program-exited', code: 0 });
    expect(agent.output).not.toContain('got-hangup');
    expect(expert.output).not.toContain('unsaved work');
    await expectCleanExit(agent, 0);
  });

  it('the person hangs up a program that outlived the session, even one that ignores the hangup', async () => {
    const { agent } = await technicianLeavesWhileRunning(`trap '' HUP; echo ready; while :; do sleep 1; done`);
    agent.send({ cmd: 'hang-up' });
    await agent.next('program-exited');
    await expectCleanExit(agent, 0);
  });

  it('an invitation nobody uses expires: the agent exits non-zero with the reason', async () => {
    const agent = assist('invite', '--easy-connect', '--name', 'Ada', '--expires-in', '1s');
    await agent.next('invitation');
    expect(await agent.next('ended')).toEqual({ event: 'ended', reason: 'expired' });
    await expectCleanExit(agent, 1);
    expect(agent.stderr).toContain('expired');
  });

  it('the agent withdraws an open invitation with end', async () => {
    const agent = assist('invite', '--easy-connect', '--name', 'Ada');
    const { password } = await agent.next('invitation');
    agent.send({ cmd: 'end' });
    expect(await agent.next('ended')).toEqual({ event: 'ended', reason: 'revoked' });
    await expectCleanExit(agent, 0);
    const late = assist('join', password as string, '--name', 'Bob');
    expect(await late.next('error')).toMatchObject({ code: expect.stringMatching(/^session-(ended|not-found)$/) });
    await expectCleanExit(late, 1);
  });
});

describe('invitation file, link and email', () => {
  it('writes the file into a folder; the expert joins with the file and its password', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'assist-cli-'));
    const agent = assist('invite', '--file', folder, '--name', 'Ada', ...ECHO);
    const invitation = await agent.next('invitation');
    expect(invitation).toMatchObject({ kind: 'file', password: expect.stringMatching(/^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/) });
    const file = invitation.file as string;
    expect(file.startsWith(folder)).toBe(true);
    expect(file).toMatch(/\.assistinvite$/);
    expect((await stat(file)).mode & 0o077).toBe(0);
    const text = await readFile(file, 'utf8');
    expect(JSON.parse(text)).toMatchObject({ format: 'assist-relay-invitation', requester: 'Ada' });
    expect(text).not.toContain(invitation.password as string);
    expect(invitation.url).toMatch(/\/join\/[0-9A-Z]{4}#/);

    const expert = assist('join', file, '--password', (invitation.password as string).toLowerCase(), '--name', 'Bob');
    await connected(agent, expert);
    agent.send({ cmd: 'approve', mode: 'view' });
    await expert.next('approved');
    agent.send({ cmd: 'input', data: base64('shown\n') });
    await expertSees(expert, 'shown\r\nshown');
    expert.send({ cmd: 'end' });
    await expectCleanExit(expert, 0);
    await hangUpAfterEnd(agent);
  });

  it('a wrong password fails for that expert only; the invitation stays open for the right one', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'assist-cli-'));
    const file = join(folder, 'help.assistinvite');
    const agent = assist('invite', '--file', file, '--name', 'Ada');
    const invitation = await agent.next('invitation');
    expect(invitation.file).toBe(file);

    const wrong = assist('join', file, '--password', 'AAAA-AAAA', '--name', 'Mallory');
    expect(await wrong.next('ended')).toEqual({ event: 'ended', reason: 'confirmation-failed' });
    await expectCleanExit(wrong, 1);
    expect(await agent.next('attempt-failed')).toEqual({ event: 'attempt-failed', failedAttempts: 1, maxFailedAttempts: 3 });

    const expert = assist('join', file, '--password', invitation.password as string, '--name', 'Bob');
    await connected(agent, expert);
    expert.send({ cmd: 'end' });
    // Before approval the expert only leaves: the invitation is open again for the agent.
    await agent.next('peer-left');
    await expectCleanExit(expert, 0);
    agent.send({ cmd: 'end' });
    expect(await agent.next('ended')).toEqual({ event: 'ended', reason: 'revoked' });
    await expectCleanExit(agent, 0);
  });

  it('a file or link without a password is refused before connecting', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'assist-cli-'));
    const agent = assist('invite', '--file', folder, '--name', 'Ada');
    const invitation = await agent.next('invitation');
    for (const target of [invitation.file as string, invitation.url as string]) {
      const expert = assist('join', target, '--name', 'Bob');
      expect(await expert.next('error')).toMatchObject({ code: 'password-required', message: expect.stringContaining('password') });
      await expectCleanExit(expert, 1);
    }
  });

  it('the expert joins with the relay link and the password from $ASSIST_PASSWORD', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'assist-cli-'));
    const agent = assist('invite', '--file', folder, '--name', 'Ada', ...ECHO);
    const invitation = await agent.next('invitation');
    const expert = start(['join', invitation.url as string, '--json', '--name', 'Bob'], { env: { ASSIST_PASSWORD: invitation.password as string } });
    await connected(agent, expert);
    agent.send({ cmd: 'approve', mode: 'control' });
    await expert.next('control');
    expert.send({ cmd: 'end' });
    await expectCleanExit(expert, 0);
    await hangUpAfterEnd(agent);
  });

  it('emails the invitation (never the password); the expert joins with the attached file', async () => {
    const agent = assist('invite', '--email', 'bob@example.org', '--name', 'Ada', ...ECHO);
    const invitation = await agent.next('invitation');
    expect(invitation).toMatchObject({ kind: 'email', to: 'bob@example.org', password: expect.any(String), url: expect.any(String) });
    expect(invitation.file).toBeUndefined();

    const [entry] = await runtime().outbox.messages();
    expect(entry?.to).toContain('bob@example.org');
    const message = await readOutboxMessage(runtime().outbox.dir, entry!.file);
    expect(`${message.text}${message.html}`).not.toContain(invitation.password as string);
    const [attachment] = message.attachments;
    const folder = await mkdtemp(join(tmpdir(), 'assist-cli-'));
    const file = join(folder, attachment!.filename);
    await writeFile(file, attachment!.content);

    const expert = assist('join', file, '--password', invitation.password as string, '--name', 'Bob');
    await connected(agent, expert);
    agent.send({ cmd: 'approve', mode: 'view' });
    await expert.next('approved');
    agent.send({ cmd: 'end' });
    expect(await expert.next('ended')).toEqual({ event: 'ended', reason: 'ended-by-agent' });
    await expectCleanExit(expert, 0);
    await hangUpAfterEnd(agent);
  });
});

describe('helper code', () => {
  it('the expert offers a code, the person accepts it, approves, and ends', async () => {
    const expert = assist('offer', '--name', 'Bob');
    const invitation = await expert.next('invitation');
    expect(invitation).toMatchObject({ kind: 'helper-code', password: expect.stringMatching(/^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/) });
    const agent = assist('accept', invitation.password as string, '--name', 'Ada', ...ECHO);
    await connected(agent, expert);
    agent.send({ cmd: 'approve', mode: 'control' });
    await expert.next('control');
    expert.send({ cmd: 'input', data: base64('via helper code\n') });
    await expertSees(expert, 'via helper code\r\nvia helper code');
    agent.send({ cmd: 'end' });
    expect(await expert.next('ended')).toEqual({ event: 'ended', reason: 'ended-by-agent' });
    await expectCleanExit(expert, 0);
    await hangUpAfterEnd(agent);
  });

  it('a mistyped code fails for the person; the expert sees the failed attempt and can withdraw the code', async () => {
    const expert = assist('offer', '--name', 'Bob');
    const { password } = await expert.next('invitation');
    const nameplate = (password as string).slice(0, 4);
    const agent = assist('accept', `${nameplate}-0000-0000`, '--name', 'Ada');
    expect(await agent.next('ended')).toEqual({ event: 'ended', reason: 'confirmation-failed' });
    await expectCleanExit(agent, 1);
    expect(await expert.next('attempt-failed')).toMatchObject({ failedAttempts: 1 });
    expert.send({ cmd: 'end' });
    expect(await expert.next('ended')).toEqual({ event: 'ended', reason: 'revoked' });
    await expectCleanExit(expert, 0);
  });

  it('an unused helper code expires', async () => {
    const expert = assist('offer', '--name', 'Bob', '--expires-in', '1s');
    await expert.next('invitation');
    expect(await expert.next('ended')).toEqual({ event: 'ended', reason: 'expired' });
    await expectCleanExit(expert, 1);
  });
});

describe('terminal traffic', () => {
  it('a 5 MB burst arrives complete and in order', async () => {
    const size = 5_000_000;
    const agent = assist('invite', '--easy-connect', '--name', 'Ada', '--command', `yes | head -c ${size}; echo END`);
    const expert = assist('join', (await agent.next('invitation')).password as string, '--name', 'Bob');
    await connected(agent, expert);
    agent.send({ cmd: 'approve', mode: 'view' });
    expect(await expert.next('ended')).toEqual({ event: 'ended', reason: 'ended-by-agent' });
    // The pty turns each "\n" into "\r\n": 2-byte lines become 3 bytes.
    expect(expert.output.length).toBe((size / 2) * 3 + 'END\r\n'.length);
    expect(expert.output).toBe(`${'y\r\n'.repeat(size / 2)}END\r\n`);
    expect(agent.output).toBe(expert.output);
    await expectCleanExit(expert, 0);
    await expectCleanExit(agent, 0);
  });

  it('keystrokes get through while the shared program floods the terminal', async () => {
    const agent = assist('invite', '--easy-connect', '--name', 'Ada', '--command', 'yes flood & cat');
    const expert = assist('join', (await agent.next('invitation')).password as string, '--name', 'Bob');
    await connected(agent, expert);
    agent.send({ cmd: 'approve', mode: 'control' });
    await expertSees(expert, 'flood\r\n');
    expert.send({ cmd: 'input', data: base64('MARK\n') });
    // Once echoed by the terminal, once by cat: the input reached the program mid-flood.
    await expertSees(expert, 'MARK', 2);
    expert.send({ cmd: 'end' });
    await expectCleanExit(expert, 0);
    await hangUpAfterEnd(agent);
  });

  it('resizes reach the shared program as a new terminal size', async () => {
    // The trap is set before the first size is printed: any resize after that is reported.
    const agent = assist('invite', '--easy-connect', '--name', 'Ada', '--command', `trap 'stty size' WINCH; stty size; while :; do sleep 0.05; done`);
    const expert = assist('join', (await agent.next('invitation')).password as string, '--name', 'Bob');
    await connected(agent, expert);
    agent.send({ cmd: 'approve', mode: 'view' });
    await expertSees(expert, '24 80\r\n');
    agent.send({ cmd: 'resize', cols: 132, rows: 43 });
    expect(await expert.next('resize')).toEqual({ event: 'resize', cols: 132, rows: 43 });
    await expertSees(expert, '43 132\r\n');
    agent.send({ cmd: 'end' });
    await hangUpAfterEnd(agent);
    await expectCleanExit(expert, 0);
  });
});

/** A person on the SDK who lets a technician running `assist join` watch. */
async function personApprovingHelperInTerminal() {
  const person = await requestHelp({ relay: runtime().httpUrl, kind: 'easy-connect', name: 'Ada', ...fastAssistOptions });
  const expert = assist('join', person.invitation.password, '--name', 'Bob');
  await new Promise<void>((resolve) => person.on('expert', () => resolve()));
  await person.approve('view');
  await expert.next('approved');
  return { person, expert };
}

describe('a person in the web console', () => {
  it('sharing their screen is told to the technician in the terminal, though the images are not shown there', async () => {
    // The SDK plays the person's browser: the web console runs the same AgentSession.
    const { person, expert } = await personApprovingHelperInTerminal();
    await person.startScreenShare();
    expect(await expert.next('screen-share')).toEqual({ event: 'screen-share', state: 'started' });
    await person.stopScreenShare();
    expect(await expert.next('screen-share')).toEqual({ event: 'screen-share', state: 'stopped', reason: 'by-person' });
    await person.end();
    expect(await expert.next('ended')).toEqual({ event: 'ended', reason: 'ended-by-agent' });
    await expectCleanExit(expert, 0);
  });

  it('sharing no terminal and nothing controllable: the technician’s request for control is answered nothing-to-control', async () => {
    const { person, expert } = await personApprovingHelperInTerminal();
    let asked = false;
    person.on('control-requested', () => (asked = true));
    expert.send({ cmd: 'request-control' });
    expect(await expert.next('control')).toEqual({ event: 'control', state: 'nothing-to-control' });
    expect(asked).toBe(false);
    await person.end();
    await expert.next('ended');
    expect(expert.events.map(({ event }) => event)).not.toContain('terminal-share');
    await expectCleanExit(expert, 0);
  });
});

describe('a person sharing their desktop', () => {
  it('is told to the technician in the terminal with its size, codec and the web console where it is seen', async () => {
    // The SDK plays the person's assist --desktop: the same AgentSession call.
    const { person, expert } = await personApprovingHelperInTerminal();
    await person.startVideoShare({ source: 'desktop', codec: 'vp8', width: 1280, height: 720, controllable: true });
    expect(await expert.next('screen-share')).toEqual({ event: 'screen-share', state: 'started' });
    expect(await expert.next('desktop-share')).toEqual({ event: 'desktop-share', state: 'started', width: 1280, height: 720, codec: 'vp8', webConsole: new URL('/', runtime().httpUrl).href });
    await person.stopScreenShare();
    expect(await expert.next('screen-share')).toEqual({ event: 'screen-share', state: 'stopped', reason: 'by-person' });
    expect(await expert.next('desktop-share')).toEqual({ event: 'desktop-share', state: 'stopped', reason: 'by-person' });
    await person.end();
    expect(await expert.next('ended')).toEqual({ event: 'ended', reason: 'ended-by-agent' });
    await expectCleanExit(expert, 0);
  });
});

describe('the command line itself', () => {
  it('reports a malformed command as an error event and carries on', async () => {
    const agent = assist('invite', '--easy-connect', '--name', 'Ada');
    await agent.next('invitation');
    agent.child.stdin.write('not json\n');
    expect(await agent.next('error')).toMatchObject({ code: 'invalid-command' });
    agent.send({ cmd: 'approve', mode: 'everything' });
    expect(await agent.next('error')).toMatchObject({ code: 'invalid-command', message: expect.stringContaining('mode') });
    agent.send({ cmd: 'approve', mode: 'view' });
    expect(await agent.next('error')).toMatchObject({ message: expect.stringContaining('cannot approve now') });
    agent.send({ cmd: 'request-control' });
    expect(await agent.next('error')).toMatchObject({ code: 'wrong-side' });
    agent.send({ cmd: 'end' });
    await expectCleanExit(agent, 0);
  });

  it('refuses a malformed code with the parser’s message and exit 1', async () => {
    const expert = assist('join', 'ABCD-EFGH-UUUU', '--name', 'Bob');
    expect(await expert.next('error')).toMatchObject({ code: expect.any(String), message: expect.any(String) });
    await expectCleanExit(expert, 1);
  });

  it('says so when the relay cannot be reached', async () => {
    const expert = start(['join', '7KQ3-VK4Q-9T2M', '--json', '--relay', 'http://127.0.0.1:9']);
    expect(await expert.next('error')).toMatchObject({ code: 'relay-unreachable' });
    await expectCleanExit(expert, 1);
  });
});
