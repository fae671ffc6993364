// Mix-ups cost nothing (issue 13): a code of the wrong kind for the command is refused before any
// seat is taken, with a sentence saying what to run instead, and the right joiner gets in at once.
// So does the right joiner after a wrong one that was killed before approval.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useAssist, type AssistProcess, type JsonEvent } from '../support/cli.js';
import { useLocalRuntime } from '../support/runtime.js';

const runtime = useLocalRuntime({ policy: { joinsPerSourceIp: 10_000, invitationsPerSourceIp: 10_000 } });
const { assist, start } = useAssist(() => runtime().httpUrl);

/** The one error event of a command that could not start, and its exit status. */
async function refused(process: AssistProcess): Promise<JsonEvent> {
  const error = await process.next('error');
  expect(await process.exitCode()).toBe(1);
  expect(process.events.map((event) => event.event)).toEqual(['error']);
  expect(process.stderr).toBe(`assist: ${error.message as string}\n`);
  return error;
}

async function connects(agent: AssistProcess, expert: AssistProcess): Promise<void> {
  const [agentSees, expertSees] = await Promise.all([agent.next('connected'), expert.next('connected')]);
  expect(expertSees.verification).toBe(agentSees.verification);
}

describe('a code of the wrong kind', () => {
  it('a helper code given to `assist join` is refused with what to run, and `assist accept` works right after', async () => {
    const technician = assist('offer', '--name', 'Grace');
    const { password: code } = await technician.next('invitation');

    const wrong = await refused(assist('join', code as string, '--name', 'Bob'));
    expect(wrong).toEqual({ event: 'error', code: 'wrong-kind', message: 'This is a helper code: the person who needs help types it with `assist accept`.' });

    // No seat was taken and nothing counted as a guess: the person gets in at once.
    const person = assist('accept', code as string, '--name', 'Ada', '--command', 'cat');
    await connects(person, technician);
    expect(technician.events.map((event) => event.event)).toEqual(['invitation', 'connected']);
  });

  it('an Easy Connect password given to `assist accept` is refused, and `assist join` works right after', async () => {
    const person = assist('invite', '--easy-connect', '--name', 'Ada', '--command', 'cat');
    const { password } = await person.next('invitation');

    const wrong = await refused(assist('accept', password as string, '--name', 'Ada'));
    expect(wrong).toEqual({ event: 'error', code: 'wrong-kind', message: 'This is an Easy Connect password: the technician types it with `assist join`.' });

    await connects(person, assist('join', password as string, '--name', 'Bob'));
    expect(person.events.map((event) => event.event)).toEqual(['invitation', 'connected']);
  });

  it('what its shape gives away is refused without asking the relay: a link, a file or a password to accept; a password alone to join', async () => {
    const person = assist('invite', '--file', await mkdtemp(join(tmpdir(), 'assist-mix-')), '--name', 'Ada', '--command', 'cat');
    const invitation = await person.next('invitation');
    const file = invitation.file as string;
    const link = invitation.url as string;
    const password = invitation.password as string;

    const forHelper = 'This is an invitation file or link: the technician opens it with `assist join FILE` or `assist join URL`, with its password.';
    expect(await refused(assist('accept', link, '--name', 'Ada'))).toMatchObject({ code: 'wrong-kind', message: forHelper });
    expect(await refused(assist('accept', file, '--name', 'Ada'))).toMatchObject({ code: 'wrong-kind', message: forHelper });
    const passwordAlone = 'This is an invitation file’s password: the technician gives it with the file or link, `assist join FILE --password XXXX-XXXX`.';
    expect(await refused(assist('accept', password, '--name', 'Ada'))).toMatchObject({ code: 'wrong-kind', message: passwordAlone });
    expect(await refused(assist('join', password, '--name', 'Bob'))).toMatchObject({ code: 'wrong-kind', message: passwordAlone });

    // None of it reached the invitation: the technician with the file gets in.
    await connects(person, assist('join', file, '--password', password, '--name', 'Bob'));
    expect(person.events.map((event) => event.event)).toEqual(['invitation', 'connected']);
  });

  it('without --json the refusal is one sentence on stderr, and nothing on stdout', async () => {
    const technician = assist('offer', '--name', 'Grace');
    const { password: code } = await technician.next('invitation');
    const human = start(['join', code as string, '--name', 'Bob', '--relay', runtime().httpUrl]);
    expect(await human.exitCode()).toBe(1);
    expect(human.stderr).toBe('assist: This is a helper code: the person who needs help types it with `assist accept`.\n');
    expect(human.strayLines).toEqual([]);
  });
});

describe('a joiner that goes away before approval', () => {
  it('a killed `assist join` frees its seat at once: the person is told, and the next technician connects', async () => {
    const person = assist('invite', '--easy-connect', '--name', 'Ada', '--command', 'cat');
    const { password } = await person.next('invitation');
    const first = assist('join', password as string, '--name', 'Bob');
    await connects(person, first);
    first.kill();

    await person.next('peer-left');
    await connects(person, assist('join', password as string, '--name', 'Bob'));
  });

  it('a killed `assist accept` frees its seat at once: the technician is told, and the person connects again', async () => {
    const technician = assist('offer', '--name', 'Grace');
    const { password: code } = await technician.next('invitation');
    const first = assist('accept', code as string, '--name', 'Ada', '--command', 'cat');
    await connects(first, technician);
    first.kill();

    await technician.next('peer-left');
    await connects(assist('accept', code as string, '--name', 'Ada', '--command', 'cat'), technician);
  });
});
