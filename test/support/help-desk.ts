// The technician's side of a help-desk offer in tests: a sign-in at the local OpenID provider whose ID token is
// bound to a key of the technician's (as `assist login` and the console sign in), exchanged for a one-time
// ticket; a helper code on a connection signed in with it; and the offer signed with that key to a device whose
// key the technician pins (what `assist offer --device` does); a device enrolled with `assist enrol` whose
// `assist agent` runs; and the desktop such a device shares.
import { mkdtempSync, rmSync } from 'node:fs';
import { afterAll, beforeAll } from 'vitest';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LocalOidcProvider } from '../../infra/local/oidc-provider.js';
import type { LocalRuntime } from '../../infra/local/runtime.js';
import { generateDeviceKeyPair, memoryDeviceKeyPins, offerHelp, offerToDevice, type DeviceKeyPins, type DeviceTrust, type HelpOffer, type PinnedDeviceKey, type TechnicianCredentials } from '../../sdk/node.js';
import { beginTechnicianSignIn, finishTechnicianSignIn, requestTechnicianTicket } from '../../sdk/technician.js';
import type { TechnicianIssuer } from '../../shared/core/technician.js';
import { technicianKeyNonce } from '../../shared/technician/proof.js';
import type { AssistLauncher, AssistProcess } from './cli.js';
import { signInWithForm } from './oidc-form.js';
import { approveDevice, issuerOptions, newEnrolmentToken, operator, operatorKey } from './operator.js';
import { operatorKeyFingerprint } from '../../shared/core/operator-key.js';
import type { OfferableDevice } from '../../shared/core/messages.js';
import { startTargetProgram, startXDisplay, type TargetProgram, type XDisplay } from './x-display.js';

/** The local provider's technicians (infra/local/technicians.json): Ada is in "Help desk", Grace in "Tier 2". */
export type LocalTechnician = 'ada' | 'grace';

/** A signed-in technician: the ID token bound to their key, and what they trust (this test process's operator key, the device keys they pinned). */
export interface SignedInTechnician {
  credentials: TechnicianCredentials;
  trust: DeviceTrust;
}

/** Signs `username` in at the local provider, the ID token bound to a fresh key (its nonce). */
export async function signInTechnician(provider: LocalOidcProvider, username: LocalTechnician, pins: DeviceKeyPins = memoryDeviceKeyPins()): Promise<SignedInTechnician> {
  const account = provider.accounts.find((candidate) => candidate.username === username)!;
  const keys = await generateDeviceKeyPair();
  const redirect = provider.signIn.loopbackRedirect;
  const pending = await beginTechnicianSignIn(provider.issuer, redirect, { nonce: technicianKeyNonce(keys.publicKey) });
  const { query } = await signInWithForm(pending.authorizationUrl, redirect, username, account.password);
  return { credentials: { idToken: await finishTechnicianSignIn(pending, query), ...keys }, trust: { operatorKey: operatorKeyFingerprint(operatorKey().publicKey), pins } };
}

/** A helper code on a connection the technician signed in (a one-time ticket for their ID token); left when `defer`red cleanups run. */
export async function technicianOffer(runtime: LocalRuntime, technician: SignedInTechnician, name: string, defer: (cleanup: () => unknown) => void): Promise<HelpOffer> {
  const offer = await offerHelp({ relay: runtime.httpUrl, name });
  defer(() => offer.leave().catch(() => {}));
  await offer.client.signInTechnician((await requestTechnicianTicket(runtime.httpUrl, technician.credentials.idToken)).ticket);
  return offer;
}

/**
 * offerToDevice with the technician's credentials and trust, to the device as the relay lists it now (as the
 * clients offer), or as given when the relay does not list it.
 */
export async function offerTo(technician: SignedInTechnician, offer: HelpOffer, device: PinnedDeviceKey & Partial<Pick<OfferableDevice, 'group' | 'approval'>>, reason: string) {
  const listed = (await offer.client.listOfferableDevices()).find((candidate) => candidate.deviceId === device.deviceId);
  return offerToDevice(offer, listed ?? { group: '', ...device }, reason, technician.credentials, technician.trust);
}

/** A machine enrolled with `assist enrol` in `group` whose `assist agent --json` runs with `env` (an X display's). */
export async function enrolledAgent(
  runtime: LocalRuntime,
  start: AssistLauncher['start'],
  { group, name, env, defer }: { group: string; name: string; env: NodeJS.ProcessEnv; defer: (cleanup: () => unknown) => void },
): Promise<{ agent: AssistProcess; deviceId: string }> {
  const stateHome = mkdtempSync(join(tmpdir(), 'assist-device-'));
  defer(() => rmSync(stateHome, { recursive: true, force: true }));
  const state = { XDG_STATE_HOME: stateHome };
  const { token } = await newEnrolmentToken(runtime.dynamoEndpoint, group);
  const enrol = start(['enrol', '--relay', runtime.httpUrl, '--token', token, '--name', name, '--json'], { env: state });
  const { deviceId, fingerprint } = await enrol.next('enrolled');
  if ((await enrol.exitCode()) !== 0) throw new Error(`assist enrol failed: ${JSON.stringify(enrol.events)}`);
  await approveDevice(runtime.dynamoEndpoint, deviceId as string, fingerprint as string);
  const agent = start(['agent', '--json', '--no-browser'], { env: { ...env, ...state } });
  await agent.next('online');
  return { agent, deviceId: deviceId as string };
}

/** The X screen of useOfferedDesktop, and the red box its test program draws on it. */
export const OFFERED_SCREEN = { width: 1280, height: 800 };
export const RED_BOX = { x: 200, y: 200, width: 400, height: 300, color: '#ff0000' };

/**
 * For a test file, before its tests: a policy that lets "Help desk" (of `issuer`) control the devices of `group`,
 * and a virtual X display (Xvfb) whose test program draws RED_BOX and records the input it gets; stopped after them.
 * `relay` is read then (a runtime started in an earlier beforeAll).
 */
export function useOfferedDesktop(relay: () => { runtime: LocalRuntime; issuer: TechnicianIssuer }, group: string): { readonly xDisplay: XDisplay; readonly target: TargetProgram } {
  const desktop = {} as { xDisplay: XDisplay; target: TargetProgram };
  beforeAll(async () => {
    const { runtime, issuer } = relay();
    const policy = await operator(runtime.dynamoEndpoint, 'policy', 'set', '--group', group, '--allow', 'Help desk:control', ...issuerOptions(issuer));
    if (policy.status !== 0) throw new Error(policy.stderr);
    desktop.xDisplay = await startXDisplay(OFFERED_SCREEN);
    desktop.target = await startTargetProgram(desktop.xDisplay);
    await desktop.target.drawRegions([RED_BOX]);
  });
  afterAll(async () => {
    await desktop.target?.close();
    await desktop.xDisplay?.close();
  });
  return desktop;
}
