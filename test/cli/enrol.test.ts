// `assist enrol` in a real terminal against the local runtime: the device's key pair is created and kept
// in a file only its user can read, the relay registers it in the token's group, a second enrolment of
// the same machine is refused, and a spent token leaves nothing behind.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { ASSIST_BIN } from '../support/cli.js';
import { Watch } from '../support/harness.js';
import { jsonLines, newEnrolmentToken, operator } from '../support/operator.js';
import { deviceKeyFingerprint } from '../../shared/core/device-approval.js';
import { useLocalRuntime } from '../support/runtime.js';
import { Tmux } from './tmux.js';

const runtime = useLocalRuntime();
const tmux = new Tmux();
const homes: string[] = [];
const killOnExit: Array<{ kill(): unknown }> = [];
afterAll(async () => {
  for (const child of killOnExit) child.kill();
  await tmux.close();
  for (const home of homes) rmSync(home, { recursive: true, force: true });
});
/** A state folder of its own: each stands for another machine. */
const newStateHome = () => {
  const home = mkdtempSync(join(tmpdir(), 'assist-enrol-'));
  homes.push(home);
  return home;
};

const assist = (...args: string[]) => [process.execPath, ASSIST_BIN, ...args, '--relay', runtime().httpUrl];
const size = { cols: 120, rows: 30 };

/** `assist enrol` exits as soon as it has said its line: wait for the exit, then read the screen. */

it('enrols this machine once, keeping its key in a 0600 file; a spent token leaves nothing behind', async () => {
  const { token } = await newEnrolmentToken(runtime().dynamoEndpoint, 'Finance laptops');
  const stateHome = newStateHome();
  const env = { XDG_STATE_HOME: stateHome };
  await tmux.start('enrol', assist('enrol', '--token', token, '--name', 'Reception PC'), size, env);
  const [, deviceId] = await tmux.finished('enrol', 0, /Enrolled "Reception PC" in "Finance laptops" as device (\S+)\./);

  const file = join(stateHome, 'assist', 'device.json');
  expect(statSync(file).mode & 0o777).toBe(0o600);
  expect(statSync(join(stateHome, 'assist')).mode & 0o777).toBe(0o700);
  const kept = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  expect(kept).toMatchObject({ deviceId, name: 'Reception PC', group: 'Finance laptops', relay: { webSocketUrl: runtime().endpoints.webSocketUrl } });
  expect(readdirSync(join(stateHome, 'assist'))).toEqual(['device.json']);
  const devices = jsonLines((await operator(runtime().dynamoEndpoint, 'devices', '--pending', '--json')).stdout);
  expect(devices).toContainEqual(expect.objectContaining({ deviceId, publicKey: kept.publicKey, fingerprint: deviceKeyFingerprint(String(kept.publicKey)) }));
  // The line it gives the operator approves exactly this key.
  const [, approve] = /npm run operator -- (device approve \S+ --fingerprint=\S+)/.exec(await tmux.screen('enrol')) ?? [];
  expect(approve).toBe(`device approve ${deviceId} --fingerprint=${deviceKeyFingerprint(String(kept.publicKey))}`);
  expect((await operator(runtime().dynamoEndpoint, ...approve!.split(' '))).status).toBe(0);
  expect(jsonLines((await operator(runtime().dynamoEndpoint, 'devices', '--pending', '--json')).stdout).map((device) => device.deviceId)).not.toContain(deviceId);

  // The same machine again: refused before anything is sent, with how to start over.
  const second = await newEnrolmentToken(runtime().dynamoEndpoint, 'Finance laptops');
  await tmux.start('again', assist('enrol', '--token', second.token), size, env);
  await tmux.finished('again', 1, /already enrolled as "Reception PC" \(\S+\) in "Finance laptops"; to enrol it again, have the operator remove it/);

  // Another machine with the spent token: refused, and no key is kept.
  const otherHome = newStateHome();
  await tmux.start('spent', assist('enrol', '--token', token), size, { XDG_STATE_HOME: otherHome });
  await tmux.finished('spent', 1, /enrolment token is unknown, expired, used up or revoked; ask the operator for a new one/);
  expect(readdirSync(join(otherHome, 'assist'))).toEqual([]);
});

it('assist agent goes online, stops at Ctrl-C, and stops with the reason once the operator removes the device', async () => {
  const { token } = await newEnrolmentToken(runtime().dynamoEndpoint, 'Kiosks');
  const env = { XDG_STATE_HOME: newStateHome() };
  await tmux.start('kiosk', assist('enrol', '--token', token, '--name', 'Kiosk 7'), size, env);
  const [, deviceId] = await tmux.finished('kiosk', 0, /as device (\S+)\./);

  // Ctrl-C (SIGINT to the process alone: in tmux it would reach the pane's shell too).
  const child = spawn(process.execPath, [ASSIST_BIN, 'agent'], { env: { ...process.env, ...env } });
  killOnExit.push(child);
  let output = '';
  const printed = new Watch();
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    printed.changed();
  });
  await printed.until(() => output.includes('Ctrl-C stops.'), 'the agent is online');
  expect(output).toMatch(/^Online as "Kiosk 7" in "Kiosks" \(device \S+\): the help desk can reach this machine\. Ctrl-C stops\.\n$/);
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  child.kill('SIGINT');
  expect(await exited).toBe(0);
  expect(output).toContain('Stopped: this machine is no longer reachable by the help desk');

  await tmux.start('kiosk-agent', [process.execPath, ASSIST_BIN, 'agent'], size, env);
  await tmux.waitFor('kiosk-agent', /Online as "Kiosk 7" in "Kiosks" \(device \S+\): the help desk can reach this machine\. Ctrl-C stops\./);
  await operator(runtime().dynamoEndpoint, 'device', 'remove', deviceId!, '--connections', `${runtime().internalUrl}/local`);
  await tmux.finished('kiosk-agent', 1, /assist: no enrolled device has this id: the operator removed it, or it never enrolled; enrol again/);

  // Not enrolled at all: says how to enrol.
  await tmux.start('not-enrolled', [process.execPath, ASSIST_BIN, 'agent'], size, { XDG_STATE_HOME: newStateHome() });
  await tmux.finished('not-enrolled', 1, /this machine is not enrolled \(no \S+device\.json\); enrol it first: assist enrol --relay URL --token TOKEN/);
});
