import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);
// `assist agent` in a real terminal (tmux) on a machine without a display, offered help by a technician (the
// SDK) whose group the policy lets only watch: the person answers on the terminal, a shell starts in it and
// is shared (the only way a shell is ever shared by the agent: a terminal a person sees, and their answer),
// both sides are told there is no desktop, the invite's Ctrl-] keys steer the session, control is refused
// on the device itself, and the shell ends with the session while the agent waits for the next offer.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startLocalOidcProvider, type LocalOidcProvider } from '../../infra/local/oidc-provider.js';
import { startLocalRuntime, type LocalRuntime } from '../../infra/local/runtime.js';
import type { AssistEnd } from '../../sdk/node.js';
import { ASSIST_BIN, AssistProcess } from '../support/cli.js';
import { useCleanups } from '../support/harness.js';
import { offerTo, signInTechnician, technicianOffer } from '../support/help-desk.js';
import { approveDevice, newEnrolmentToken, operator, issuerOptions } from '../support/operator.js';
import { Tmux } from './tmux.js';

const GROUP = 'Kiosks';
let provider: LocalOidcProvider;
let runtime: LocalRuntime;
const tmux = new Tmux();
const stateHome = mkdtempSync(join(tmpdir(), 'assist-agent-terminal-'));
beforeAll(async () => {
  provider = await startLocalOidcProvider();
  runtime = await startLocalRuntime({ port: 0, technicianIssuer: provider.signIn });
  const policy = await operator(runtime.dynamoEndpoint, 'policy', 'set', '--group', GROUP, '--allow', 'Help desk:view', ...issuerOptions(provider.issuer));
  if (policy.status !== 0) throw new Error(policy.stderr);
});
afterAll(async () => {
  await tmux.close();
  await runtime?.close();
  await provider?.close();
  rmSync(stateHome, { recursive: true, force: true });
});
const defer = useCleanups();

it('without a display, a person at the terminal shares a shell on their answer; the invite’s keys steer it; control the policy does not allow is refused', async () => {
  const { token } = await newEnrolmentToken(runtime.dynamoEndpoint, GROUP);
  const enrol = new AssistProcess(['enrol', '--relay', runtime.httpUrl, '--token', token, '--name', 'Kiosk 9', '--json'], { env: { XDG_STATE_HOME: stateHome } });
  const { deviceId, fingerprint } = await enrol.next('enrolled');
  expect(await enrol.exitCode()).toBe(0);
  await approveDevice(runtime.dynamoEndpoint, String(deviceId), String(fingerprint));
  await tmux.start('kiosk', [process.execPath, ASSIST_BIN, 'agent', '--no-browser'], { cols: 120, rows: 40 }, { XDG_STATE_HOME: stateHome, DISPLAY: '', WAYLAND_DISPLAY: '', SHELL: '/bin/sh' });
  await tmux.waitFor('kiosk', /Online as "Kiosk 9"/);

  const ada = await signInTechnician(provider, 'ada');
  const offer = await technicianOffer(runtime, ada, 'ada', defer);
  const ended = new Promise<AssistEnd>((resolve) => offer.on('ended', resolve));
  const approved = new Promise<{ mode: string }>((resolve) => offer.on('approved', resolve));
  const told = new Promise<string>((resolve) => offer.on('chat', resolve));
  let output = '';
  offer.on('output', (bytes) => (output += Buffer.from(bytes).toString('utf8')));
  const listed = (await offer.client.listOfferableDevices()).find((device) => device.deviceId === deviceId)!;
  await offerTo(ada, offer, listed, 'INC-9: the kiosk is stuck');

  await tmux.waitFor('kiosk', /No desktop to share here: the agent runs outside a graphical session: no display\./);
  await tmux.waitFor('kiosk', /There is no desktop to share here: allowing starts a shell in this terminal and shares it\./);
  // The policy allows view only: no c.
  await tmux.waitFor('kiosk', /Answer here or on the page: v = allow view, d = deny \(here: type v or d, then Enter\)/);
  // c is no answer here, and the line says what is.
  await tmux.type('kiosk', 'c');
  await tmux.press('kiosk', 'Enter');
  await tmux.waitFor('kiosk', /Type v or d, then Enter \(or answer on the page\)\./);
  await tmux.type('kiosk', 'v');
  await tmux.press('kiosk', 'Enter');
  expect(await approved).toMatchObject({ mode: 'view' });
  expect(await told).toBe('This device has no desktop to share (the agent runs outside a graphical session: no display): a shell in the terminal where its agent runs is shared instead.');
  await tmux.waitFor('kiosk', /Ada Lovelace can now see your terminal \(but not type in it\)/);
  // The keys offered leave out control, which the policy does not allow.
  await tmux.waitFor('kiosk', /Keys: Ctrl-\] then p \(pause\), m \(message\), e \(end\), \? \(help\)\./);

  // The person types in the shared shell; the technician sees it.
  await tmux.type('kiosk', 'echo shared-$((6*7))');
  await tmux.press('kiosk', 'Enter');
  await expect.poll(() => output, { timeout: 20_000 }).toContain('shared-42');

  // Asked for control, the person is told the policy lets the technician only watch.
  await offer.requestControl();
  await tmux.waitFor('kiosk', /Ada Lovelace asks for control of your terminal; your organisation's policy lets them only watch\. To say no: Ctrl-\] then n\./);
  // Ctrl-] c, pressed all the same: the device refuses it.
  await tmux.press('kiosk', 'C-]');
  await tmux.type('kiosk', 'c');
  await tmux.waitFor('kiosk', /your organisation's policy lets this technician only watch: control cannot be given/);
  expect(offer.hasControl).toBe(false);

  // Ctrl-] p pauses; Ctrl-] e ends; the shell goes with the session; the agent stays online.
  const paused = new Promise<void>((resolve) => offer.on('paused', () => resolve()));
  await tmux.press('kiosk', 'C-]');
  await tmux.type('kiosk', 'p');
  await paused;
  await tmux.press('kiosk', 'C-]');
  await tmux.type('kiosk', 'e');
  expect(await ended).toMatchObject({ reason: 'ended-by-agent' });
  await tmux.waitFor('kiosk', /You ended the session\.\n(?:.*\n)*The help-desk session ended \(ended-by-agent\)\./);
  // Nothing says the shell runs on: it was started for the technician, and went with the session.
  expect(await tmux.screen('kiosk')).not.toContain('still runs here');
  expect(await tmux.exitStatus('kiosk')).toBeUndefined();
  require('node:fs').writeFileSync('/tmp/od-screen.txt', await tmux.screen('kiosk'));
});
