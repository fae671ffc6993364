// Help-desk offers (docs/help-desk.md): a signed-in technician offers help to an enrolled device. The relay
// enforces who may offer (the operator's group policy against the groups of the technician's verified ID
// token), forwards the offer, with the signed policy, to the device's agent, and writes the audit from what it
// verified: the technician's identity from the sign-in, the device from its signed-in connection, the reason,
// the source addresses. It forwards the technician's proof (ID token and signature) untouched and keeps none of
// it. The device checks the proof and the policy itself and answers; the session that follows is an
// ordinary helper-code session (the technician created it; the device joins with the sealed code).

import { permittedViewersFor, type PermittedViewers } from '../../core/group-policy.js';
import type { AnswerOfferRequest, OfferableDevice, OfferDeviceRequest, ServerMessage } from '../../core/messages.js';
import type { TechnicianIdentity } from '../../core/technician.js';
import type { DeviceRecord } from '../ports/device-registry.js';
import { recordAudit } from './audit.js';
import { epochSeconds, type Caller, type RelayDeps } from './deps.js';
import { RelayError } from './errors.js';
import { finishSession } from './finish-session.js';
import { requireLiveSession } from './live-session.js';
import { requireTechnician } from './technician-sign-in.js';

/** A device whose last sign-in or heartbeat is this recent counts as online (heartbeats come every 5 minutes). */
const ONLINE_WITHIN_SECONDS = 10 * 60;

const auditedTechnician = ({ issuer, subject, name, email }: TechnicianIdentity) => ({ issuer, subject, name, ...(email === undefined ? {} : { email }) });

async function mayOffer(deps: RelayDeps, technician: TechnicianIdentity, group: string): Promise<boolean> {
  const signed = await deps.devices.getGroupPolicy(group);
  return signed !== undefined && permittedViewersFor(signed.policy, technician.groups) !== undefined;
}

const deviceUnavailable = (why: string) => new RelayError('device-unavailable', `${why}; list the devices you may help with: assist devices`);

export async function listOfferableDevices(deps: RelayDeps, caller: Caller): Promise<ServerMessage> {
  const technician = await requireTechnician(deps, caller);
  const now = epochSeconds(deps);
  /** The rule for this technician, by device group. */
  const permitted = new Map<string, PermittedViewers>();
  for await (const signed of deps.devices.listGroupPolicies()) {
    const rule = permittedViewersFor(signed.policy, technician.groups);
    if (rule) permitted.set(signed.policy.group, rule);
  }
  const devices: OfferableDevice[] = [];
  // Only the permitted groups' devices are read, never the others'.
  for (const [permittedGroup, rule] of permitted) {
    for await (const device of deps.devices.listDevicesInGroup(permittedGroup)) {
      const { deviceId, name, group, os, publicKey, lastSeenAt, approval } = device;
      const online = device.connectionId !== undefined && lastSeenAt !== undefined && now - lastSeenAt < ONLINE_WITHIN_SECONDS;
      devices.push({ deviceId, name, group, os, publicKey, ...(approval && { approval }), online, ...(lastSeenAt === undefined ? {} : { lastSeenAt }), level: rule.level, consent: rule.consent });
    }
  }
  devices.sort((a, b) => a.group.localeCompare(b.group) || a.name.localeCompare(b.name));
  return { type: 'offerableDevices', devices };
}

export async function offerDevice(deps: RelayDeps, caller: Caller, request: OfferDeviceRequest): Promise<ServerMessage> {
  const technician = await requireTechnician(deps, caller);
  const { session, role } = await requireLiveSession(deps, caller);
  if (role !== 'expert' || session.creatorRole !== 'expert' || session.state !== 'waiting') {
    throw new RelayError('invalid-state', 'offer help from the connection of a helper code you just made (assist offer --device), before anyone joined it');
  }
  const device = await deps.devices.getDevice(request.deviceId);
  // Refused alike whether the device is unknown or in a group the technician may not help: a technician
  // learns nothing of devices beyond its reach.
  if (!device || !(await mayOffer(deps, technician, device.group))) {
    deps.log.warn('offer-refused', { subject: technician.subject, deviceId: request.deviceId });
    await recordAudit(deps, session.sessionId, { event: 'offered', role, technician: auditedTechnician(technician), deviceId: request.deviceId, reason: request.reason, detail: 'not-permitted' }, caller);
    throw new RelayError('offer-not-permitted', 'the operator’s policy does not let your groups offer help to this device (or there is no such device); list the ones you may: assist devices');
  }
  // The technician's client refuses first (it checks the operator's signature); this audits a client that did not.
  if (!device.approval) {
    await recordAudit(deps, session.sessionId, { event: 'offered', role, technician: auditedTechnician(technician), deviceId: device.deviceId, deviceName: device.name, reason: request.reason, detail: 'device-not-approved' }, caller);
    throw new RelayError('device-not-approved', `${device.name} is awaiting the operator's approval (npm run operator -- device approve); it cannot be offered help until then`);
  }
  if (!device.connectionId) throw deviceUnavailable(`${device.name} is not connected to the relay now (its agent is not running)`);
  const signed = (await deps.devices.getGroupPolicy(device.group))!;
  await deps.devices.putOffer({ sessionId: session.sessionId, deviceId: device.deviceId, expiresAt: session.invitationExpiresAt });
  await recordAudit(
    deps,
    session.sessionId,
    { event: 'offered', role, technician: auditedTechnician(technician), deviceId: device.deviceId, deviceName: device.name, reason: request.reason },
    caller,
  );
  const outcome = await deps.notifier.post(device.connectionId, {
    type: 'helpOffered',
    sessionId: session.sessionId,
    technician,
    reason: request.reason,
    sealedCode: request.sealedCode,
    offeredAt: request.offeredAt,
    proof: request.proof,
    policy: signed,
  });
  if (outcome !== 'delivered') throw deviceUnavailable(`${device.name} lost its connection to the relay`);
  deps.log.info('device-offered', { deviceId: device.deviceId, subject: technician.subject });
  return { type: 'deviceOffered', deviceId: device.deviceId, name: device.name };
}

/** The device's own signed-in connection, or a refusal. */
async function requireDeviceConnection(deps: RelayDeps, caller: Caller, deviceId: string): Promise<DeviceRecord> {
  const device = await deps.devices.getDevice(deviceId);
  if (!device || device.connectionId !== caller.connectionId) {
    throw new RelayError('device-sign-in-failed', 'this connection is not the signed-in connection of that device; sign in as the device first');
  }
  return device;
}

export async function answerOffer(deps: RelayDeps, caller: Caller, request: AnswerOfferRequest): Promise<ServerMessage> {
  const device = await requireDeviceConnection(deps, caller, request.deviceId);
  const offer = await deps.devices.getOffer(request.sessionId, epochSeconds(deps));
  if (!offer || offer.deviceId !== device.deviceId) throw new RelayError('session-not-found', 'no open offer to this device has this session id');
  await recordAudit(deps, offer.sessionId, { event: 'offer-answered', role: 'agent', deviceId: device.deviceId, deviceName: device.name, detail: request.answer }, caller);
  // Allowed: the device joins and approves the session itself (audited as joined and approved). Anything else ends it.
  // The technician learns the device's answer with the end (a hostile relay could say another; docs/protocol.md §6).
  if (request.answer !== 'view' && request.answer !== 'control') await finishSession(deps, offer.sessionId, 'denied', caller, request.answer);
  return { type: 'offerAnswered', answer: request.answer };
}
