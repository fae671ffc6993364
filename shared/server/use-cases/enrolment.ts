// Devices enrol (docs/help-desk.md): the operator makes an enrolment token for a device group, a device
// spends it to register the public half of its long-term key pair, and the operator lists and removes
// devices. The relay keeps only the token's hash and the device's public key.

import { DISPLAY_NAME_RULE, isStoredDisplayName } from '../../core/display-name.js';
import type { EnrolDeviceRequest, ServerMessage } from '../../core/messages.js';
import { operatorKeyFingerprint } from '../../core/operator-key.js';
import type { DeviceRecord, DeviceRegistry, EnrolmentTokenRecord } from '../ports/device-registry.js';
import { recordAudit } from './audit.js';
import { epochSeconds, type Caller, type RelayDeps } from './deps.js';
import { RelayError } from './errors.js';
import { hashToken, newResumeToken, newSessionId, typeableAsArgument } from '../../core/tokens.js';
import { CodedError } from '../../core/coded-error.js';

/** Longest an enrolment token may live: a roll-out takes weeks, not months. */
export const MAX_ENROLMENT_TOKEN_TTL_SECONDS = 90 * 86_400;
/** Most devices one token may enrol. */
export const MAX_ENROLMENT_TOKEN_USES = 10_000;
/** How much of the token's hash names it in lists (not enough to find the token from). */
const TOKEN_ID_CHARS = 8;

/** An operator's request that cannot be done, with what to do instead. */
export type OperatorErrorCode =
  | 'invalid-group'
  | 'invalid-expiry'
  | 'invalid-uses'
  | 'no-such-device'
  | 'ambiguous-device'
  | 'no-such-token'
  | 'invalid-policy'
  | 'no-operator-key'
  | 'unreadable-operator-key'
  | 'no-technician-issuer'
  | 'fingerprint-mismatch';

export class OperatorError extends CodedError<OperatorErrorCode> {
  override readonly name = 'OperatorError';
}

export interface EnrolmentTokenRequest {
  group: string;
  /** The operator's Ed25519 public key (base64url): devices it enrols pin it, to verify the group policy. */
  operatorKey: string;
  ttlSeconds: number;
  /** Default 1. */
  uses?: number;
}

/** Makes an enrolment token: the token is returned once, and only its hash is stored. */
export async function createEnrolmentToken(
  registry: DeviceRegistry,
  nowSeconds: number,
  request: EnrolmentTokenRequest,
): Promise<{ token: string; record: EnrolmentTokenRecord }> {
  if (!isStoredDisplayName(request.group)) throw new OperatorError('invalid-group', `a device group's name is ${DISPLAY_NAME_RULE}`);
  if (!Number.isSafeInteger(request.ttlSeconds) || request.ttlSeconds <= 0 || request.ttlSeconds > MAX_ENROLMENT_TOKEN_TTL_SECONDS) {
    throw new OperatorError('invalid-expiry', `an enrolment token lives from 1 second to ${MAX_ENROLMENT_TOKEN_TTL_SECONDS / 86_400} days`);
  }
  const uses = request.uses ?? 1;
  if (!Number.isSafeInteger(uses) || uses < 1 || uses > MAX_ENROLMENT_TOKEN_USES) {
    throw new OperatorError('invalid-uses', `an enrolment token enrols from 1 to ${MAX_ENROLMENT_TOKEN_USES} devices`);
  }
  // The token ends with the operator key's fingerprint: the device checks the key the relay hands it against
  // it, so a relay cannot have the device pin another key.
  const token = `${typeableAsArgument(newResumeToken)}${operatorKeyFingerprint(request.operatorKey)}`;
  const tokenHash = hashToken(token);
  const record: EnrolmentTokenRecord = {
    tokenHash,
    tokenId: tokenHash.slice(0, TOKEN_ID_CHARS),
    group: request.group,
    createdAt: nowSeconds,
    expiresAt: nowSeconds + request.ttlSeconds,
    usesLeft: uses,
    operatorKey: request.operatorKey,
  };
  await registry.putEnrolmentToken(record);
  return { token, record };
}

/** A 128-bit device id, URL-safe; operators type it as a command's argument (`device remove ID`). */
export const newDeviceId = (): string => typeableAsArgument(newSessionId);

export const invalidEnrolmentToken = () =>
  new RelayError(
    'invalid-enrolment-token',
    'this enrolment token is unknown, expired, used up or revoked; ask the operator for a new one (npm run operator -- enrolment-token)',
  );

/** A device spends an enrolment token and registers its public key: all of it, or nothing. */
export async function enrolDevice(deps: RelayDeps, caller: Caller, request: EnrolDeviceRequest): Promise<ServerMessage> {
  const now = epochSeconds(deps);
  const tokenHash = hashToken(request.token);
  const token = await deps.devices.spendEnrolmentToken(tokenHash, now);
  if (!token) throw invalidEnrolmentToken();
  const device: DeviceRecord = {
    deviceId: newDeviceId(),
    name: request.name,
    os: request.os,
    group: token.group,
    publicKey: request.publicKey,
    enrolledAt: now,
    enrolledWith: token.tokenId,
  };
  try {
    // A 128-bit random id does not collide; were it to, nothing is registered and the use is given back.
    if (!(await deps.devices.addDevice(device))) throw new RelayError('internal', 'the enrolment could not be stored; try again');
  } catch (error) {
    await deps.devices.refundEnrolmentToken(tokenHash);
    throw error;
  }
  deps.log.info('device-enrolled', { deviceId: device.deviceId, group: device.group, tokenId: token.tokenId });
  // Kept under the device's id: `npm run audit-log -- --device` finds it with the offers to it.
  await recordAudit(deps, device.deviceId, { event: 'enrolled', deviceId: device.deviceId, deviceName: device.name, detail: `${device.group} (token ${token.tokenId})` }, caller);
  return { type: 'deviceEnrolled', deviceId: device.deviceId, name: device.name, group: device.group, enrolledAt: now, operatorKey: token.operatorKey };
}

/** Every enrolled device, by group then name. */
export async function listDevices(registry: DeviceRegistry): Promise<DeviceRecord[]> {
  const devices: DeviceRecord[] = [];
  for await (const device of registry.listDevices()) devices.push(device);
  return devices.sort((a, b) => a.group.localeCompare(b.group) || a.name.localeCompare(b.name) || a.deviceId.localeCompare(b.deviceId));
}

/** The one device `which` names: its id, or its name when only one device has it. */
export async function findDevice(registry: DeviceRegistry, which: string): Promise<DeviceRecord> {
  const byId = await registry.getDevice(which);
  if (byId) return byId;
  const named = (await listDevices(registry)).filter((device) => device.name === which);
  if (named.length === 0) throw new OperatorError('no-such-device', `no enrolled device has the id or name "${which}"; list them with: npm run operator -- devices`);
  if (named.length > 1) {
    throw new OperatorError('ambiguous-device', `${named.length} devices are called "${which}"; name one by its id: ${named.map((device) => device.deviceId).join(', ')}`);
  }
  return named[0]!;
}

/** Removes a device: from then on it cannot sign in or be offered help. */
export async function removeDevice(registry: DeviceRegistry, which: string): Promise<DeviceRecord> {
  const device = await findDevice(registry, which);
  const removed = await registry.removeDevice(device.deviceId);
  if (!removed) throw new OperatorError('no-such-device', `the device "${which}" was removed meanwhile`);
  return removed;
}

/** Unexpired enrolment tokens, newest first (without their hashes' full text). */
export async function listEnrolmentTokens(registry: DeviceRegistry): Promise<EnrolmentTokenRecord[]> {
  const tokens: EnrolmentTokenRecord[] = [];
  for await (const token of registry.listEnrolmentTokens()) tokens.push(token);
  return tokens.sort((a, b) => b.createdAt - a.createdAt);
}

/** Revokes an enrolment token by its id (as listed); devices it enrolled stay enrolled. */
export async function revokeEnrolmentToken(registry: DeviceRegistry, tokenId: string): Promise<EnrolmentTokenRecord> {
  const matches = (await listEnrolmentTokens(registry)).filter((token) => token.tokenId === tokenId);
  if (matches.length === 0) throw new OperatorError('no-such-token', `no unexpired enrolment token has the id "${tokenId}"; list them with: npm run operator -- enrolment-tokens`);
  // Two tokens sharing 48 bits of hash is unlikely; were it so, the operator named both.
  const revoked = (await Promise.all(matches.map((token) => registry.deleteEnrolmentToken(token.tokenHash)))).filter((token) => token !== undefined);
  if (revoked.length === 0) throw new OperatorError('no-such-token', `the enrolment token "${tokenId}" expired or was revoked meanwhile`);
  return revoked[0]!;
}
