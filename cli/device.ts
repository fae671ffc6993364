// `assist enrol` and `assist agent`: this machine as a device the help desk can offer help to
// (docs/help-desk.md). Enrolment creates the device's long-term key pair here and registers its public
// half with the relay, spending an enrolment token the operator made.

import { hostname, platform } from 'node:os';
import { createDeviceAgent, enrolDevice, generateDeviceKeyPair } from '../sdk/node.js';
import { assertNotEnrolled, DEVICE_STATE_VERSION, deviceFile, keepPendingKeys, readDeviceState } from './device-state.js';
import { errorEvent } from './frontend.js';
import { handleOffer, hasDesktop, type OfferHandling } from './device-offers.js';

export interface EnrolOptions {
  relay: string;
  token: string;
  name?: string;
  json: boolean;
}

/** Says one line: a JSON event in scripting mode, else the sentence. */
export function report(json: boolean, event: Record<string, unknown> & { event: string }, sentence: string, stream: NodeJS.WritableStream = process.stdout): void {
  stream.write(`${json ? JSON.stringify(event) : sentence}\n`);
}

export async function enrol(options: EnrolOptions): Promise<number> {
  try {
    assertNotEnrolled();
    const keys = await generateDeviceKeyPair();
    const pending = keepPendingKeys(keys);
    const name = options.name ?? hostname();
    const os = platform();
    let enrolment;
    try {
      enrolment = await enrolDevice({ relay: options.relay, token: options.token, publicKey: keys.publicKey, name, os });
    } catch (error) {
      pending.abandon();
      throw error;
    }
    const { deviceId, group, enrolledAt, endpoints, operatorKey } = enrolment;
    pending.enrolled({
      version: DEVICE_STATE_VERSION,
      deviceId,
      name,
      group,
      os,
      enrolledAt,
      operatorKey,
      relay: { webSocketUrl: endpoints.webSocketUrl, ...(endpoints.httpUrl === undefined ? {} : { httpUrl: endpoints.httpUrl }) },
      ...keys,
    });
    report(
      options.json,
      { event: 'enrolled', deviceId, name, group, os, file: deviceFile() },
      `Enrolled "${name}" in "${group}" as device ${deviceId}.\nIts key is in ${deviceFile()} (only you can read it). Keep it reachable for the help desk: assist agent`,
    );
    return 0;
  } catch (error) {
    const event = errorEvent(error);
    report(options.json, event, `assist: ${event.message}`, options.json ? process.stdout : process.stderr);
    return 1;
  }
}

/** `assist agent`: keeps this enrolled device signed in on the relay until Ctrl-C, or until the relay refuses it. */
export async function runDeviceAgent(options: { json: boolean; consentTimeoutSeconds: number; browser: boolean }): Promise<number> {
  let identity;
  try {
    identity = readDeviceState();
  } catch (error) {
    const event = errorEvent(error);
    report(options.json, event, `assist: ${event.message}`, options.json ? process.stdout : process.stderr);
    return 1;
  }
  const agent = createDeviceAgent({ identity: { deviceId: identity.deviceId, privateKey: identity.privateKey, webSocketUrl: identity.relay.webSocketUrl } });
  agent.on('online', ({ deviceId, name, group, renewal }) =>
    report(
      options.json,
      { event: 'online', deviceId, name, group, renewal },
      renewal ? `Connection renewed (the relay's 2-hour limit is near).` : `Online as "${name}" in "${group}" (device ${deviceId}): the help desk can reach this machine. Ctrl-C stops.`,
    ),
  );
  const handling: OfferHandling = {
    say: (event, sentence) => report(options.json, event, sentence),
    consentTimeoutMs: options.consentTimeoutSeconds * 1000,
    openBrowser: options.browser && hasDesktop(),
    policyNotBefore: 0,
  };
  // One offer at a time: another while the person is being asked (or helped) is denied.
  let busy = false;
  agent.on('offer', (offer) => {
    if (busy) return void agent.answerOffer(offer.sessionId, 'deny').catch(() => {});
    busy = true;
    handleOffer(agent, identity, offer, handling)
      .catch((error: unknown) => {
        const event = errorEvent(error);
        report(options.json, event, `assist: the offer failed: ${event.message}`, options.json ? process.stdout : process.stderr);
      })
      .finally(() => {
        busy = false;
      });
  });
  agent.on('offline', ({ reason, delayMs }) =>
    report(
      options.json,
      { event: 'offline', reason, retryInSeconds: Math.round(delayMs / 1000) },
      `Not connected to the relay (${reason}); trying again ${delayMs < 1000 ? 'now' : `in ${Math.round(delayMs / 1000)} s`}.`,
    ),
  );
  return new Promise((resolve) => {
    agent.on('stopped', ({ code, message }) => {
      if (code === undefined) {
        report(options.json, { event: 'stopped' }, 'Stopped: this machine is no longer reachable by the help desk until `assist agent` runs again.');
        resolve(0);
        return;
      }
      report(options.json, { event: 'error', code, message }, `assist: ${message}`, options.json ? process.stdout : process.stderr);
      resolve(1);
    });
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => agent.stop());
    agent.start();
  });
}
