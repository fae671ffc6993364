// Rough edges from walking through the CLI as a newcomer (issue 13): a code typed with spaces and no
// quotes, files that are not invitations, a missing output folder, and a lifetime above the cap.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ASSIST_BIN, useAssist, type AssistProcess, type JsonEvent } from '../support/cli.js';
import { Tmux } from './tmux.js';
import { useLocalRuntime } from '../support/runtime.js';

const runtime = useLocalRuntime({ policy: { joinsPerSourceIp: 10_000, invitationsPerSourceIp: 10_000 } });
const { assist, start } = useAssist(() => runtime().httpUrl);

async function connects(agent: AssistProcess, expert: AssistProcess): Promise<void> {
  const [agentSees, expertSees] = await Promise.all([agent.next('connected'), expert.next('connected')]);
  expect(expertSees.verification).toBe(agentSees.verification);
}

/** The one error event of a command that could not start. */
async function refused(process: AssistProcess): Promise<JsonEvent> {
  const error = await process.next('error');
  expect(await process.exitCode()).toBe(1);
  expect(process.events.map((event) => event.event)).toEqual(['error']);
  return error;
}

const folder = () => mkdtemp(join(tmpdir(), 'assist-rough-'));

describe('typing codes', () => {
  it('an Easy Connect password typed with spaces and no quotes (assist join SRDX V200 20VC) is one password', async () => {
    const person = assist('invite', '--easy-connect', '--name', 'Ada', '--command', 'cat');
    const { password } = await person.next('invitation');
    await connects(person, assist('join', ...(password as string).toLowerCase().split('-'), '--name', 'Bob'));
  });

  it('a helper code typed with spaces and no quotes (assist accept 7KQ3 VK4Q 9T2M) is one code', async () => {
    const technician = assist('offer', '--name', 'Grace');
    const { password: code } = await technician.next('invitation');
    await connects(assist('accept', ...(code as string).split('-'), '--name', 'Ada', '--command', 'cat'), technician);
  });
});

describe('files', () => {
  it('an invitation file saved with a byte-order mark still works', async () => {
    const dir = await folder();
    const person = assist('invite', '--file', dir, '--name', 'Ada', '--command', 'cat');
    const { file, password } = await person.next('invitation');
    const withBom = join(dir, 'with-bom.assistinvite');
    await writeFile(withBom, `\uFEFF${await readFile(file as string, 'utf8')}`);
    await connects(person, assist('join', withBom, '--password', password as string, '--name', 'Bob'));
  });

  it('a folder, or a file that is not an invitation, each gets its own sentence', async () => {
    const dir = await folder();
    expect(await refused(assist('join', dir, '--password', 'ABCD-EFGH'))).toEqual({
      event: 'error',
      code: 'not-a-file',
      message: `${dir} is a folder: give the invitation file (.assistinvite) in it`,
    });
    const noise = join(dir, 'noise.assistinvite');
    await writeFile(noise, Buffer.from([0x17, 0xff, 0x00, 0x8a, 0x41, 0x42, 0x0a, 0xc3]));
    expect(await refused(assist('join', noise, '--password', 'ABCD-EFGH'))).toEqual({
      event: 'error',
      code: 'not-an-invitation',
      message: `${noise} is not an invitation file: an .assistinvite file is a few lines of text starting with {; check it is the file the person sent`,
    });
  });

  it('a --file in a folder that does not exist is refused before any invitation is made', async () => {
    const missing = join(await folder(), 'no-such-folder', 'help.assistinvite');
    const error = await refused(assist('invite', '--file', missing, '--name', 'Ada'));
    expect(error).toEqual({
      event: 'error',
      code: 'output-folder-missing',
      message: `cannot save the invitation as ${missing}: the folder ${join(missing, '..')} does not exist; create it, or give --file a folder that exists`,
    });
  });
});

describe('lifetimes', () => {
  it('--expires-in above the relay’s cap says it was shortened, in --json and in words', async () => {
    const person = assist('invite', '--easy-connect', '--expires-in', '5h', '--name', 'Ada');
    const invitation = await person.next('invitation');
    expect(invitation.cappedFromSeconds).toBe(5 * 3600);
    const hours = (Date.parse(invitation.expiresAt as string) - Date.now()) / 3_600_000;
    expect(hours).toBeGreaterThan(1.9);
    expect(hours).toBeLessThanOrEqual(2);

    const withinCap = assist('offer', '--expires-in', '5m', '--name', 'Grace');
    expect((await withinCap.next('invitation')).cappedFromSeconds).toBeUndefined();

    const human = start(['offer', '--expires-in', '3h', '--name', 'Grace', '--relay', runtime().httpUrl]);
    expect(await human.line((line) => line.includes('It stays open until'))).toMatch(/^You asked for 3 hours, more than this relay allows, so it was shortened\. It stays open until /);
  });
});

describe('secrets typed at a prompt', () => {
  const tmux = new Tmux();
  afterAll(() => tmux.close());

  it('are not shown while typed (assist accept -)', async () => {
    const technician = assist('offer', '--name', 'Grace');
    const { password: code } = await technician.next('invitation');
    const env = { TERM: 'xterm-256color', LANG: 'C.UTF-8' };
    await tmux.start('person', [process.execPath, ASSIST_BIN, 'accept', '-', '--name', 'Ada', '--relay', runtime().httpUrl], { cols: 100, rows: 30 }, env);
    await tmux.waitFor('person', /Helper code \(your technician reads it out\): $/m);
    await tmux.type('person', code as string);
    await tmux.press('person', 'Enter');
    await tmux.waitFor('person', /Verification code: +\d{3} \d{3}/);
    const screen = await tmux.screen('person');
    expect(screen).not.toContain(code as string);
    expect(screen).not.toContain((code as string).slice(5));
    await technician.next('connected');
  });

  it('Ctrl-C at the question cancels, without claiming the code was wrong', async () => {
    await tmux.start('cancel', [process.execPath, ASSIST_BIN, 'accept', '-', '--name', 'Ada', '--relay', runtime().httpUrl], { cols: 100, rows: 30 }, { TERM: 'xterm-256color', LANG: 'C.UTF-8' });
    await tmux.waitFor('cancel', /Helper code \(your technician reads it out\): $/m);
    await tmux.press('cancel', 'C-c');
    expect(await tmux.waitForExit('cancel')).toBe(130);
    const screen = await tmux.screen('cancel');
    expect(screen).toContain('Cancelled.');
    expect(screen).not.toMatch(/symbols|did not match/);
  });

  const env = { TERM: 'xterm-256color', LANG: 'C.UTF-8' };
  const PASSWORD_PROMPT = /Invitation password \(the person tells you separately\): $/m;
  const AGAIN_PROMPT = /That password did not match.*type it again.*: $/m;
  const AGAIN_PROMPT_ANYWHERE = /That password did not match/g;
  async function joinAtPrompt(name: string, file: string): Promise<void> {
    await tmux.start(name, [process.execPath, ASSIST_BIN, 'join', file, '--name', 'Bob', '--relay', runtime().httpUrl], { cols: 200, rows: 30 }, env);
    await tmux.waitFor(name, PASSWORD_PROMPT);
  }

  it('a wrong invitation password typed at the prompt is asked again, and the right one then gets in', async () => {
    const person = assist('invite', '--file', await folder(), '--name', 'Ada', '--command', 'cat');
    const { file, password } = await person.next('invitation');
    await joinAtPrompt('retry-technician', file as string);
    // Not a password's shape: asked again at once, and no guess is spent.
    await tmux.type('retry-technician', 'ABC');
    await tmux.press('retry-technician', 'Enter');
    await tmux.waitFor('retry-technician', /That is not a password: the password has 3 symbols; expected 8, written XXXX-XXXX\. Type it again: $/m);
    await tmux.type('retry-technician', 'ABCD-EFGH');
    await tmux.press('retry-technician', 'Enter');
    await tmux.waitFor('retry-technician', AGAIN_PROMPT);
    expect(await person.next('attempt-failed')).toMatchObject({ failedAttempts: 1, maxFailedAttempts: 3 });
    await tmux.type('retry-technician', password as string);
    await tmux.press('retry-technician', 'Enter');
    await tmux.waitFor('retry-technician', /Verification code: +\d{3} \d{3}/);
    const screen = await tmux.screen('retry-technician');
    expect(screen).not.toContain('The password did not match. Check it with');
    expect(screen).not.toContain(password as string);
    await person.next('connected');
  });

  it('three wrong passwords at the prompt block the invitation and end with that sentence', async () => {
    const person = assist('invite', '--file', await folder(), '--name', 'Ada', '--command', 'cat');
    const { file } = await person.next('invitation');
    await joinAtPrompt('burn-technician', file as string);
    for (const attempt of [1, 2]) {
      await tmux.type('burn-technician', `ABCD-EFG${attempt === 1 ? 'J' : 'K'}`);
      await tmux.press('burn-technician', 'Enter');
      await tmux.waitFor('burn-technician', AGAIN_PROMPT);
      expect(await person.next('attempt-failed')).toMatchObject({ failedAttempts: attempt });
    }
    await tmux.type('burn-technician', 'ABCD-EFGM');
    await tmux.press('burn-technician', 'Enter');
    expect(await tmux.waitForExit('burn-technician')).toBe(1);
    const screen = await tmux.screen('burn-technician');
    expect(screen.match(AGAIN_PROMPT_ANYWHERE)).toHaveLength(2);
    expect(screen).toContain('Too many wrong passwords or codes were tried, so the invitation was blocked. Ask the person for a new one.');
    expect(await person.next('ended')).toMatchObject({ reason: 'burned' });
  });
});
