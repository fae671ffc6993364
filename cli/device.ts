// `assist enrol` and `assist agent`: this machine as a device the help desk can offer help to
// (docs/help-desk.md). Enrolment creates the device's long-term key pair here and registers its public
// half with the relay, spending an enrolment token the operator made.

import { hostname, platform } from 'node:os';
import { PassThrough } from 'node:stream';
import { createDeviceAgent, enrolDevice, generateDeviceKeyPair } from '../sdk/node.js';
import { cachedIssuerKeys } from '../shared/technician/id-token.js';
import { operatorKeyFingerprint } from '../shared/core/operator-key.js';
import { deviceKeyFingerprint } from '../shared/core/device-approval.js';
import { assertNotEnrolled, DEVICE_STATE_VERSION, deviceFile, keepOffersSeen, keepPendingKeys, readDeviceState, readOffersSeen, rememberPolicyDate } from './device-state.js';
import { errorEvent, type Frontend } from './frontend.js';
import { handleOffer, hasDesktop, type OfferHandling } from './device-offers.js';
import { DEFAULT_MAX_FPS, prepareDesktop } from './desktop/desktop-share.js';
import { eventToJson, type SessionEvent } from './events.js';
import { HumanFrontend } from './human.js';

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
    const fingerprint = deviceKeyFingerprint(keys.publicKey);
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
      { event: 'enrolled', deviceId, name, group, os, file: deviceFile(), fingerprint, operatorKeyFingerprint: operatorKeyFingerprint(operatorKey) },
      `Enrolled "${name}" in "${group}" as device ${deviceId}.
Its key (fingerprint ${fingerprint}) is in ${deviceFile()} (only you can read it). It obeys only group policies signed by the operator key ${operatorKeyFingerprint(operatorKey)}, and takes offers only from technicians of the issuer such a policy names.
Technicians can offer help once the operator approves it; give the operator this line (not through the relay),
to run with their --table or --local option:
  npm run operator -- device approve ${deviceId} --fingerprint=${fingerprint}
Keep it reachable for the help desk: assist agent`,
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
  const say = (event: Record<string, unknown> & { event: string }, sentence: string) => report(options.json, event, sentence);
  const terminal = !options.json && process.stdin.isTTY === true && process.stdout.isTTY === true;
  const stopping = new AbortController();
  const handling: OfferHandling = {
    stopping: stopping.signal,
    say,
    consentTimeoutMs: options.consentTimeoutSeconds * 1000,
    openBrowser: options.browser && hasDesktop(),
    checks: { policyNotBefore: identity.policyNotBefore ?? 0, issuerKeys: cachedIssuerKeys, recentOffers: readOffersSeen(Date.now()) },
    rememberPolicy: (issuedAt) => rememberPolicyDate(issuedAt),
    rememberOffers: (seen) => keepOffersSeen(seen, Date.now()),
    terminal,
    prepareDesktop: () => prepareDesktop({ maxFps: DEFAULT_MAX_FPS }),
    sessionFrontend: ({ technician, shares, controlAllowed }) =>
      terminal
        ? new HumanFrontend({ role: 'agent', input: process.stdin, output: process.stdout, errors: process.stderr, desktop: shares === 'desktop', terminal: shares === 'terminal', peer: technician, controlAllowed })
        : sessionLog(options.json, say, technician),
  };
  // One offer at a time: another while the person is being asked (or helped) is denied.
  let busy = false;
  /** The offer being handled, settled once its session is over. */
  let handled: Promise<void> = Promise.resolve();
  agent.on('offer', (offer) => {
    if (busy) return void agent.answerOffer(offer.sessionId, 'deny').catch(() => {});
    busy = true;
    handled = handleOffer(agent, identity, offer, handling)
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
    // A question open is denied and a session under way is ended for both sides before the agent goes.
    const stop = () => {
      stopping.abort();
      void handled.then(() => agent.stop());
    };
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, stop);
    agent.start();
  });
}

/** An offered session in the agent's output, when no person sees its terminal (--json, a service): events are told, nothing is read. */
function sessionLog(json: boolean, say: (event: Record<string, unknown> & { event: string }, sentence: string) => void, technician: string): Frontend {
  return {
    show(event) {
      if (event.event === 'output') return;
      const sentence = logSentence(event, technician);
      if (json || sentence !== undefined) say(JSON.parse(eventToJson(event)) as Record<string, unknown> & { event: string }, sentence ?? '');
    },
    listen: () => {},
    close: () => {},
  };
}

/** The session's turns worth a line in the agent's log (--json has every event). */
function logSentence(event: SessionEvent, technician: string): string | undefined {
  switch (event.event) {
    case 'approved':
      return `${technician} is connected: ${event.mode === 'control' ? 'they can see and control this device' : 'they can see this device'}.`;
    case 'control':
      return event.state === 'granted' ? `${technician} has control.` : event.state === 'revoked' ? `Control taken back from ${technician}.` : undefined;
    case 'control-requested':
      return `${technician} asks for control (answer on the page).`;
    case 'paused':
      return 'Paused.';
    case 'resumed':
      return 'Resumed.';
    case 'desktop-share':
      return event.state === 'started' ? `The desktop is shared (monitor ${event.monitor}, ${event.width}×${event.height}).` : 'The desktop is no longer shared.';
    case 'desktop-error':
    case 'error':
      return `assist: ${event.message}`;
    case 'chat':
      return `${technician}: ${event.text}`;
    default:
      return undefined;
  }
}
