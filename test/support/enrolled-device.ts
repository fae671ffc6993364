// An enrolled device whose agent is online and answers help-desk offers as `assist agent` does (handleOffer):
// for tests of offers from the SDK and from the console. What the agent says is collected; the consent page's
// address is in its `offer` event.
import { DesktopError } from '../../cli/desktop/errors.js';
import { handleOffer, type OfferHandling } from '../../cli/device-offers.js';
import type { DeviceState } from '../../cli/device-state.js';
import type { LocalRuntime } from '../../infra/local/runtime.js';
import { createDeviceAgent, enrolDevice, generateDeviceKeyPair, type DeviceAgent } from '../../sdk/node.js';
import { newEnrolmentToken } from './operator.js';

export interface OnlineDevice {
  identity: DeviceState;
  agent: DeviceAgent;
  said: Array<Record<string, unknown>>;
  handling: OfferHandling;
}

/** Enrols `name` in `group` and starts its agent; `defer` stops it after the test. */
export async function onlineDevice(runtime: LocalRuntime, group: string, name: string, defer: (cleanup: () => unknown) => void): Promise<OnlineDevice> {
  const { token } = await newEnrolmentToken(runtime.dynamoEndpoint, group);
  const keys = await generateDeviceKeyPair();
  const enrolled = await enrolDevice({ relay: runtime.httpUrl, token, publicKey: keys.publicKey, name, os: 'linux' });
  const identity: DeviceState = {
    version: 1,
    deviceId: enrolled.deviceId,
    name,
    group: enrolled.group,
    os: 'linux',
    enrolledAt: enrolled.enrolledAt,
    operatorKey: enrolled.operatorKey,
    relay: { webSocketUrl: runtime.wsUrl, httpUrl: runtime.httpUrl },
    ...keys,
  };
  const said: Array<Record<string, unknown>> = [];
  // As `assist agent --json` run as a service on a machine without a display: no desktop, no shell, the session's events in its log.
  const handling: OfferHandling = {
    say: (event) => said.push(event),
    consentTimeoutMs: 60_000,
    openBrowser: false,
    policyNotBefore: 0,
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
  return { identity, agent, said, handling };
}
