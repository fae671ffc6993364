// An enrolled device whose agent is online and answers help-desk offers as `assist agent` does (handleOffer):
// for tests of offers from the SDK and from the console. Its identity is a real device.json in a directory of
// its own, and the agent learns what it knows from that file (so a restart keeps the newest policy date). What
// the agent says is collected; the consent page's address is in its `offer` event.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DesktopError } from '../../cli/desktop/errors.js';
import { handleOffer, type OfferHandling } from '../../cli/device-offers.js';
import { keepOffersSeen, keepPendingKeys, readDeviceState, readOffersSeen, rememberPolicyDate, type DeviceState } from '../../cli/device-state.js';
import type { LocalRuntime } from '../../infra/local/runtime.js';
import { createDeviceAgent, enrolDevice, generateDeviceKeyPair, type DeviceAgent } from '../../sdk/node.js';
import { discoverIssuerKeys } from '../../shared/technician/id-token.js';
import { deviceKeyFingerprint } from '../../shared/core/device-approval.js';
import { approveDevice, newEnrolmentToken } from './operator.js';

export interface OnlineDevice {
  identity: DeviceState;
  /** Its state directory (device.json). */
  directory: string;
  agent: DeviceAgent;
  said: Array<Record<string, unknown>>;
  handling: OfferHandling;
}

type Defer = (cleanup: () => unknown) => void;

/**
 * Enrols `name` in `group`, has the operator approve it (unless `approved` is false) and starts its agent; `defer`
 * stops it and removes its files after the test.
 */
export async function onlineDevice(runtime: LocalRuntime, group: string, name: string, defer: Defer, { approved = true } = {}): Promise<OnlineDevice> {
  const directory = mkdtempSync(join(tmpdir(), 'enrolled-device-'));
  defer(() => rmSync(directory, { recursive: true, force: true }));
  const { token } = await newEnrolmentToken(runtime.dynamoEndpoint, group);
  const keys = await generateDeviceKeyPair();
  const enrolled = await enrolDevice({ relay: runtime.httpUrl, token, publicKey: keys.publicKey, name, os: 'linux' });
  keepPendingKeys(keys, directory).enrolled({
    version: 1,
    deviceId: enrolled.deviceId,
    name,
    group: enrolled.group,
    os: 'linux',
    enrolledAt: enrolled.enrolledAt,
    operatorKey: enrolled.operatorKey,
    relay: { webSocketUrl: runtime.wsUrl, httpUrl: runtime.httpUrl },
    ...keys,
  });
  if (approved) await approveDevice(runtime.dynamoEndpoint, enrolled.deviceId, deviceKeyFingerprint(keys.publicKey));
  return startAgent(runtime, directory, defer);
}

/** `assist agent` for the device kept in `directory` (again, for a restart); `defer` stops it. */
export async function startAgent(runtime: LocalRuntime, directory: string, defer: Defer): Promise<OnlineDevice> {
  const identity = readDeviceState(directory);
  const said: Array<Record<string, unknown>> = [];
  // As `assist agent --json` run as a service on a machine without a display: no desktop, no shell, the session's events in its log.
  const handling: OfferHandling = {
    say: (event) => said.push(event),
    consentTimeoutMs: 60_000,
    openBrowser: false,
    checks: { policyNotBefore: identity.policyNotBefore ?? 0, issuerKeys: discoverIssuerKeys, recentOffers: readOffersSeen(Date.now(), directory) },
    rememberPolicy: (issuedAt) => rememberPolicyDate(issuedAt, directory),
    rememberOffers: (seen) => keepOffersSeen(seen, Date.now(), directory),
    terminal: false,
    prepareDesktop: () => {
      throw new DesktopError('no-display', 'no X display here');
    },
    sessionFrontend: () => ({ show: (event) => void said.push({ ...event }), listen: () => {}, close: () => {} }),
  };
  const agent = createDeviceAgent({ identity: { deviceId: identity.deviceId, privateKey: identity.privateKey, webSocketUrl: runtime.wsUrl } });
  defer(() => agent.stop());
  agent.on('offer', (offer) => void handleOffer(agent, identity, offer, handling).catch((error: unknown) => said.push({ event: 'failed', error: String(error) })));
  await new Promise((resolve) => {
    agent.on('online', resolve);
    agent.start();
  });
  return { identity, directory, agent, said, handling };
}
