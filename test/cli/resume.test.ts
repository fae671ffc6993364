// `assist` in scripting mode survives a crash of either side: the approved session is kept in a 0600
// file in the state directory, `assist resume` continues it (refused while the original process still
// runs), the other side learns at once that its peer dropped and when it is back, and the file is
// removed when the session ends.
import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { GatewayTap } from '../../infra/local/gateway.js';
import { base64, expectCleanExit, useAssist, type AssistProcess } from '../support/cli.js';
import { useLocalRuntime } from '../support/runtime.js';

/** Learns the joiner's connection, so a test can drop it as the network (or API Gateway's 2-hour limit) would. */
class JoinerTap implements GatewayTap {
  joiner: string | undefined;
  fromClient = (_connectionId: string, body: string) => body;
  toClient = (connectionId: string, body: string) => {
    if (body.includes('"type":"sessionJoined"')) this.joiner = connectionId;
    return body;
  };
}
const tap = new JoinerTap();
const runtime = useLocalRuntime({ tap, policy: { joinsPerSourceIp: 10_000, invitationsPerSourceIp: 10_000 } });
const { assist, start } = useAssist(() => runtime().httpUrl);

/** Each side's own state directory, as on two machines. */
const stateHome = () => mkdtempSync(join(process.env.XDG_STATE_HOME ?? tmpdir(), 'side-'));
const stateFiles = (home: string) => {
  try {
    return readdirSync(join(home, 'assist'));
  } catch {
    return [];
  }
};

function withState(home: string, args: string[]): AssistProcess {
  return start([...args, '--json', '--relay', runtime().httpUrl], { env: { XDG_STATE_HOME: home } });
}

const resume = (home: string, ...args: string[]) => start(['resume', ...args, '--json'], { env: { XDG_STATE_HOME: home } });

describe('assist resume', () => {
  it('either side crashes and comes back with assist resume: control, input and output go on; the files go at the end', async () => {
    const personHome = stateHome();
    const technicianHome = stateHome();
    const person = withState(personHome, ['invite', '--easy-connect', '--name', 'Ada', '--command', 'cat']);
    const { password } = await person.next('invitation');
    const technician = withState(technicianHome, ['join', password as string, '--name', 'Bob']);
    await Promise.all([person.next('connected'), technician.next('connected')]);
    // Nothing is kept before approval.
    expect([stateFiles(personHome), stateFiles(technicianHome)]).toEqual([[], []]);
    person.send({ cmd: 'approve', mode: 'control' });
    await technician.next('approved');
    const { expiresAt } = technician.events.find((event) => event.event === 'time-limit')!;
    expect(expiresAt).toEqual(expect.any(String));
    technician.send({ cmd: 'input', data: base64('first\r') });
    await technician.next('output', () => technician.output.includes('first'));

    const [technicianFile] = stateFiles(technicianHome);
    expect(technicianFile).toMatch(/^[A-Za-z0-9_-]+\.expert\.json$/);
    expect(statSync(join(technicianHome, 'assist', technicianFile!)).mode & 0o777).toBe(0o600);
    expect(stateFiles(personHome)).toEqual([expect.stringMatching(/\.agent\.json$/)]);

    // Refused while the process that holds the session runs.
    const early = resume(technicianHome);
    expect(await early.next('error')).toMatchObject({ code: 'still-running' });
    await expectCleanExit(early, 1);

    // The technician's process dies; the person is told at once, and again when it is back.
    technician.kill();
    expect(await person.next('peer')).toEqual({ event: 'peer', state: 'disconnected' });
    const helperAgain = resume(technicianHome);
    expect(await helperAgain.next('session-restored')).toEqual({ event: 'session-restored', peer: 'Ada', mode: 'control', control: true, paused: false });
    // The time limit is watched again (and its warnings re-armed), as in a fresh session.
    expect(helperAgain.events.filter((event) => event.event === 'time-limit')).toEqual([expect.objectContaining({ expiresAt })]);
    expect(await person.next('peer')).toEqual({ event: 'peer', state: 'connected' });
    helperAgain.send({ cmd: 'input', data: base64('second\r') });
    await helperAgain.next('output', () => helperAgain.output.includes('second'));

    // The person's process dies: its program with it; assist resume starts the same command anew.
    person.kill();
    expect(await helperAgain.next('peer')).toEqual({ event: 'peer', state: 'disconnected' });
    const personAgain = resume(personHome);
    expect(await personAgain.next('session-restored')).toEqual({ event: 'session-restored', peer: 'Bob', mode: 'control', control: true, paused: false });
    expect(personAgain.events.filter((event) => event.event === 'time-limit')).toEqual([expect.objectContaining({ expiresAt })]);
    expect(await helperAgain.next('peer')).toEqual({ event: 'peer', state: 'connected' });
    helperAgain.send({ cmd: 'input', data: base64('third\r') });
    await helperAgain.next('output', () => helperAgain.output.includes('third'));
    expect(personAgain.output).toContain('third');

    helperAgain.send({ cmd: 'end' });
    expect(await helperAgain.next('ended')).toEqual({ event: 'ended', reason: 'ended-by-expert' });
    expect(await personAgain.next('ended')).toEqual({ event: 'ended', reason: 'ended-by-expert' });
    await expectCleanExit(helperAgain, 0);
    personAgain.send({ cmd: 'hang-up' });
    await expectCleanExit(personAgain, 0);
    expect([stateFiles(personHome), stateFiles(technicianHome)]).toEqual([[], []]);
  });

  it('a dropped connection heals by itself: both sides are told, and the session goes on', async () => {
    const person = assist('invite', '--easy-connect', '--name', 'Ada', '--command', 'cat');
    const { password } = await person.next('invitation');
    const technician = assist('join', password as string, '--name', 'Bob');
    await Promise.all([person.next('connected'), technician.next('connected')]);
    person.send({ cmd: 'approve', mode: 'control' });
    await technician.next('approved');

    expect(runtime().gateway.manageConnection('DELETE', `/local/@connections/${encodeURIComponent(tap.joiner!)}`, new Uint8Array()).status).toBe(204);
    expect(await technician.next('connection')).toEqual({ event: 'connection', state: 'reconnecting', attempt: 1 });
    expect(await person.next('peer')).toEqual({ event: 'peer', state: 'disconnected' });
    expect(await technician.next('connection', (event) => event.state === 'connected')).toEqual({ event: 'connection', state: 'connected' });
    expect(await person.next('peer')).toEqual({ event: 'peer', state: 'connected' });
    technician.send({ cmd: 'input', data: base64('after the drop\r') });
    await technician.next('output', () => technician.output.includes('after the drop'));
    technician.send({ cmd: 'end' });
    await expectCleanExit(technician, 0);
  });

  it('says there is nothing to resume, and why a file cannot be used', async () => {
    const home = stateHome();
    const nothing = resume(home);
    expect(await nothing.next('error')).toMatchObject({ code: 'no-saved-session' });
    await expectCleanExit(nothing, 1);
  });
});
