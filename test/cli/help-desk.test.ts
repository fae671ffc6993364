// `assist devices` and `assist offer --device NAME --reason TEXT` in real terminals against the local runtime and its
// OpenID provider: technicians sign in with `assist login` (the test plays their browser), a device enrolled with
// `assist enrol` runs `assist agent` in another terminal and answers on that terminal (its consent page's fallback).
// The permitted technician lists the devices, offers help, sees the verification code the device shows, is let in
// and ends the session; a denial ends with exit status 3; an unknown or misspelt name lists close matches; a
// technician whose groups the policy does not name sees no devices; no sign-in, or an expired one, says what to run.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalOidcProvider, type LocalOidcProvider } from '../../infra/local/oidc-provider.js';
import { startLocalRuntime, type LocalRuntime } from '../../infra/local/runtime.js';
import { ASSIST_BIN, useAssist } from '../support/cli.js';
import { signInWithForm } from '../support/oidc-form.js';
import { approveDevice, newEnrolmentToken, operator, operatorKey, issuerOptions } from '../support/operator.js';
import { operatorKeyFingerprint } from '../../shared/core/operator-key.js';
import { Tmux } from './tmux.js';

const GROUP = 'Finance laptops';
let provider: LocalOidcProvider;
let runtime: LocalRuntime;
const tmux = new Tmux();
const homes: string[] = [];
const newHome = () => {
  const home = mkdtempSync(join(tmpdir(), 'assist-help-desk-'));
  homes.push(home);
  return home;
};
const cli = useAssist(() => runtime.httpUrl);
const size = { cols: 140, rows: 40 };
const assist = (...args: string[]) => [process.execPath, ASSIST_BIN, ...args];

/** Each technician's state folder, signed in with `assist login` (ada: "Help desk", grace: "Tier 2"); ada2: ada without the operator key pinned. */
const technicians: Record<'ada' | 'grace' | 'ada2', string> = { ada: '', grace: '', ada2: '' };
/** The agent's terminal of the online device. */
const DEVICE_PANE = 'reception';
let reception: { home: string; deviceId: string };

/** `assist login`, with the operator key's fingerprint (as the operator told it) unless `pinned` is false. */
async function logIn(username: 'ada' | 'grace', { pinned = true } = {}): Promise<string> {
  const home = newHome();
  const operatorKeyOption = pinned ? [`--operator-key=${operatorKeyFingerprint(operatorKey().publicKey)}`] : [];
  const login = cli.start(['login', '--json', '--relay', runtime.httpUrl, ...operatorKeyOption], { env: { XDG_STATE_HOME: home } });
  const { url } = await login.next('sign-in');
  const redirectUri = new URL(String(url)).searchParams.get('redirect_uri')!;
  const account = provider.accounts.find((candidate) => candidate.username === username)!;
  const { redirectedTo } = await signInWithForm(String(url), redirectUri, username, account.password);
  await fetch(redirectedTo!);
  await login.next('signed-in');
  expect(await login.exitCode()).toBe(0);
  return home;
}

async function enrol(name: string): Promise<{ home: string; deviceId: string }> {
  const { token } = await newEnrolmentToken(runtime.dynamoEndpoint, GROUP);
  const home = newHome();
  const enrolment = cli.start(['enrol', '--json', '--relay', runtime.httpUrl, '--token', token, '--name', name], { env: { XDG_STATE_HOME: home } });
  const { deviceId, fingerprint } = await enrolment.next('enrolled');
  expect(await enrolment.exitCode()).toBe(0);
  await approveDevice(runtime.dynamoEndpoint, String(deviceId), String(fingerprint));
  return { home, deviceId: String(deviceId) };
}

beforeAll(async () => {
  provider = await startLocalOidcProvider();
  runtime = await startLocalRuntime({ port: 0, technicianIssuer: provider.signIn });
  const policy = await operator(runtime.dynamoEndpoint, 'policy', 'set', '--group', GROUP, '--allow', 'Help desk:control', ...issuerOptions(provider.issuer));
  if (policy.status !== 0) throw new Error(policy.stderr);
  // One after the other: both come back to the one redirect address the provider registered, as on Cognito.
  technicians.ada = await logIn('ada');
  technicians.grace = await logIn('grace');
  technicians.ada2 = await logIn('ada', { pinned: false });
  // Two devices: one whose agent runs (and answers on its terminal), one enrolled but never online.
  [reception] = await Promise.all([enrol('Reception PC'), enrol('Back office')]);
  // The shared shell is $SHELL: plain sh, so a machine's interactive bash start-up (pyenv hooks took 16 s here) is not timed.
  await tmux.start(DEVICE_PANE, assist('agent', '--no-browser'), size, { XDG_STATE_HOME: reception.home, SHELL: '/bin/sh' });
  await tmux.waitFor(DEVICE_PANE, /Online as "Reception PC"/);
});
afterAll(async () => {
  await tmux.close();
  await runtime?.close();
  await provider?.close();
  for (const home of homes) rmSync(home, { recursive: true, force: true });
});

/** Runs `assist <args>` as a technician in a terminal of its own. */
const asTechnician = (pane: string, who: keyof typeof technicians, ...args: string[]) => tmux.start(pane, assist(...args), size, { XDG_STATE_HOME: technicians[who] });


/** Waits for the device's agent to ask about its `offerNumber`th offer (counted from its start); returns that offer's verification code. */
async function deviceAsked(offerNumber: number): Promise<string> {
  const asked = await tmux.waitFor(DEVICE_PANE, new RegExp(`(?:[^]*?Verification code (\\d{6})[^]*?Answer here or on the page){${offerNumber}}`));
  return asked[1]!;
}

describe('assist devices', () => {
  it('lists the devices the technician may help, with their state, last sign-in and what the policy allows; --search narrows it', async () => {
    await asTechnician('devices', 'ada', 'devices');
    const screen = (await tmux.finished('devices', 0, /2 devices you may offer help to as Ada Lovelace \(Help desk\):/)).input!;
    expect(screen).toMatch(/NAME\s+GROUP\s+OS\s+STATE\s+LAST SEEN\s+YOU MAY HAVE/);
    expect(screen).toMatch(/Back office\s+Finance laptops\s+Linux\s+offline\s+never\s+control, person asked first/);
    expect(screen).toMatch(/Reception PC\s+Finance laptops\s+Linux\s+online\s+just now\s+control, person asked first/);
    expect(screen).toContain('Offer help: assist offer --device NAME --reason TEXT');

    await asTechnician('search', 'ada', 'devices', '--search', 'RECEPTION');
    const found = (await tmux.finished('search', 0, /1 device you may offer help to as Ada Lovelace \(Help desk\), matching "RECEPTION":/)).input!;
    expect(found).not.toContain('Back office');
    await asTechnician('search-none', 'ada', 'devices', '--search', 'kiosk');
    await tmux.finished('search-none', 0, /No device you may help matches "kiosk" \(you may help 2: assist devices lists them\)\./);
  });

  it('--json prints one line a script can read', async () => {
    const devices = cli.start(['devices', '--json'], { env: { XDG_STATE_HOME: technicians.ada } });
    const listed = await devices.next('devices');
    expect(await devices.exitCode()).toBe(0);
    expect(listed.technician).toEqual({ name: 'Ada Lovelace', email: 'ada@example.org', groups: ['Help desk'] });
    expect(listed.devices).toEqual([
      expect.objectContaining({ name: 'Back office', group: GROUP, os: 'linux', online: false, level: 'control', consent: 'ask' }),
      expect.objectContaining({ name: 'Reception PC', group: GROUP, os: 'linux', online: true, lastSeenAt: expect.any(Number), level: 'control', consent: 'ask' }),
    ]);
  });

  it('a technician whose groups no policy names is told so; no sign-in, or an expired one, says what to run', async () => {
    await asTechnician('grace', 'grace', 'devices');
    await tmux.finished('grace', 0, /There is no device you may offer help to as Grace Hopper \(Tier 2\): no enrolled device is in a group whose policy names one of your groups\./);

    await tmux.start('nobody', assist('devices', '--relay', runtime.httpUrl), size, { XDG_STATE_HOME: newHome() });
    await tmux.finished('nobody', 1, /assist: you are not signed in as a technician: run assist login --relay http:\/\/\S+ first/);

    const expired = newHome();
    const file = join(expired, 'assist', 'technician.json');
    const kept = JSON.parse(readFileSync(join(technicians.ada, 'assist', 'technician.json'), 'utf8')) as { expiresAt: number };
    mkdirSync(join(expired, 'assist'), { mode: 0o700 });
    writeFileSync(file, JSON.stringify({ ...kept, expiresAt: Math.floor(Date.now() / 1000) - 60 }), { mode: 0o600 });
    await tmux.start('expired', assist('offer', '--device', 'Reception PC', '--reason', 'INC-1'), size, { XDG_STATE_HOME: expired });
    await tmux.finished('expired', 1, /assist: your sign-in as Ada Lovelace expired at .+: run assist login --relay http:\/\/\S+ again/);
  });
});

describe('assist offer --device', () => {
  it('offers help; the person allows control on the device’s terminal; both see the same code; the technician ends it', async () => {
    await asTechnician('offer', 'ada', 'offer', '--device', 'reception pc', '--reason', 'INC-42: the printer');
    await tmux.waitFor('offer', /Offered help to Reception PC \(Finance laptops\): INC-42: the printer/);
    const deviceCode = await deviceAsked(1);
    expect(await tmux.screen(DEVICE_PANE)).toContain('Ada Lovelace <ada@example.org> offers help: INC-42: the printer');
    const [, shown] = await tmux.waitFor('offer', /The person at Reception PC is asked now\.\s+Verification code:\s+(\d{3} \d{3})/);
    expect(shown!.replace(' ', '')).toBe(deviceCode);
    await tmux.waitFor('offer', /Waiting for the person at Reception PC to answer \(\d+ s\)… Press q to withdraw the offer\./);

    await tmux.type(DEVICE_PANE, 'c');
    await tmux.press(DEVICE_PANE, 'Enter');
    await tmux.waitFor('offer', /Reception PC let you in: you can watch and type\./);
    await tmux.waitFor(DEVICE_PANE, /Allowed control\./);
    // No desktop here: the agent's terminal shares a shell, which the technician types into and sees.
    await tmux.type('offer', 'echo sum=$((6*7))');
    await tmux.press('offer', 'Enter');
    await tmux.waitFor('offer', /sum=42/);
    await tmux.waitFor(DEVICE_PANE, /sum=42/);
    await tmux.press('offer', 'C-]');
    await tmux.type('offer', 'm');
    await tmux.type('offer', 'hello from the help desk');
    await tmux.press('offer', 'Enter');
    await tmux.waitFor(DEVICE_PANE, /hello from the help desk/);
    await tmux.press('offer', 'C-]');
    await tmux.type('offer', 'e');
    await tmux.finished('offer', 0, /You ended the session\./);
    await tmux.waitFor(DEVICE_PANE, /The help-desk session ended \(ended-by-expert\)\./);
    // The device's key is pinned for the next offers (0600, beside technician.json).
    const pins = join(technicians.ada, 'assist', 'known-devices.json');
    expect(statSync(pins).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(pins, 'utf8'))).toMatchObject({
      devices: [expect.objectContaining({ deviceId: reception.deviceId, name: 'Reception PC' })],
      operatorKeys: [{ relay: new URL(runtime.httpUrl).origin, fingerprint: operatorKeyFingerprint(operatorKey().publicKey), pinnedAt: expect.any(String) }],
    });
  });

  it('a denial ends with its sentence and exit status 3; the agent is free again', async () => {
    await asTechnician('denied', 'ada', 'offer', '--device', 'Reception PC', '--reason', 'INC-43');
    await deviceAsked(2);
    await tmux.waitFor('denied', /The person at Reception PC is asked now\./);
    await tmux.type(DEVICE_PANE, 'd');
    await tmux.press(DEVICE_PANE, 'Enter');
    // The agent sees the end too, so it is free for the next offer.
    await tmux.waitFor(DEVICE_PANE, /Denied\.\s+The help-desk session ended \(denied\)\./);
    await tmux.finished('denied', 3, /The person at Reception PC said no: they did not let you in\./);
  });

  it('--json: the offer, the code and the approval as events; the script ends it', async () => {
    const offer = cli.start(['offer', '--json', '--device', 'Reception PC', '--reason', 'INC-44'], { env: { XDG_STATE_HOME: technicians.ada } });
    expect(await offer.next('offered')).toMatchObject({ device: 'Reception PC', group: GROUP, reason: 'INC-44', level: 'control', consent: 'ask' });
    const deviceCode = await deviceAsked(3);
    expect(await offer.next('connected')).toMatchObject({ peer: 'Reception PC', verification: deviceCode });
    await tmux.type(DEVICE_PANE, 'v');
    await tmux.press(DEVICE_PANE, 'Enter');
    expect(await offer.next('approved')).toMatchObject({ mode: 'view' });
    offer.send({ cmd: 'end' });
    expect(await offer.next('ended')).toMatchObject({ reason: 'ended-by-expert' });
    expect(await offer.exitCode()).toBe(0);
  });

  it('an unknown or misspelt name lists close matches; an offline device, a missing reason and a non-permitted technician are said', async () => {
    await asTechnician('typo', 'ada', 'offer', '--device', 'Recepton', '--reason', 'INC-45');
    await tmux.finished('typo', 1, /assist: no device you may help is named "Recepton"; close matches: "Reception PC" \(Finance laptops, \S+\)/);
    await asTechnician('unknown', 'ada', 'offer', '--device', 'Kiosk 9', '--reason', 'INC-45');
    await tmux.finished('unknown', 1, /assist: no device you may help is named "Kiosk 9" \(you may help 2 devices: assist devices lists them\)/);
    await asTechnician('offline', 'ada', 'offer', '--device', 'back office', '--reason', 'INC-45');
    await tmux.finished('offline', 1, /assist: "Back office" is offline \(it has never been online\): it can be offered help once its agent runs/);
    await asTechnician('no-reason', 'ada', 'offer', '--device', 'Reception PC');
    await tmux.finished('no-reason', 2, /assist: --reason is required with --device: say why, or give a ticket number/);
    await asTechnician('not-permitted', 'grace', 'offer', '--device', 'Reception PC', '--reason', 'curious');
    await tmux.finished('not-permitted', 1, /assist: no device you may help is named "Reception PC": you may help none/);
    // Signed in without --operator-key: told the fingerprint the relay presents, and how to pin one after checking it.
    await asTechnician('unpinned', 'ada2', 'offer', '--device', 'Reception PC', '--reason', 'INC-46');
    await tmux.finished('unpinned', 1, new RegExp(`you have not pinned the operator key .* approved by the operator key ${operatorKeyFingerprint(operatorKey().publicKey)}: do not take its word`));
    // None of these reached the device.
    expect((await tmux.screen(DEVICE_PANE)).match(/offers help:/g)).toHaveLength(3);
  });
});
