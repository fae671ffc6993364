// An enrolled device's agent keeps one connection to the relay (docs/help-desk.md): it asks for a one-time
// challenge, signs it with the device's enrolled key (no long-lived secret travels, none is in a URL), and
// then sends heartbeats well within API Gateway's idle limit. A device signing in anew (after the 2-hour cap,
// or on another machine holding its key) takes over: its earlier connection is closed.

import { decodeBase64Url, encodeBase64Url } from '../../core/base64.js';
import type { DeviceHeartbeatRequest, ServerMessage, SignInDeviceRequest } from '../../core/messages.js';
import { DEVICE_CHALLENGE_TTL_SECONDS, deviceSignInMessage } from '../../core/device-sign-in.js';
import type { DeviceRecord } from '../ports/device-registry.js';
import { recordAudit } from './audit.js';
import { epochSeconds, type Caller, type RelayDeps } from './deps.js';
import { RelayError } from './errors.js';
import { randomBytes } from '../../core/tokens.js';

export const deviceNotEnrolled = () =>
  new RelayError('device-not-enrolled', 'no enrolled device has this id: the operator removed it, or it never enrolled; enrol again with a new token (assist enrol)');

export async function requestDeviceChallenge(deps: RelayDeps, caller: Caller): Promise<ServerMessage> {
  const challenge = encodeBase64Url(randomBytes(32));
  await deps.devices.putChallenge(caller.connectionId, challenge, epochSeconds(deps) + DEVICE_CHALLENGE_TTL_SECONDS);
  return { type: 'deviceChallenge', challenge };
}

/** Whether `signature` is the device key's over the sign-in message; a key that cannot be imported verifies nothing. */
async function verifies(publicKey: string, signature: string, message: Uint8Array<ArrayBuffer>): Promise<boolean> {
  try {
    const key = await crypto.subtle.importKey('raw', new Uint8Array(decodeBase64Url(publicKey)), { name: 'Ed25519' }, false, ['verify']);
    return await crypto.subtle.verify({ name: 'Ed25519' }, key, new Uint8Array(decodeBase64Url(signature)), message);
  } catch {
    return false;
  }
}

/**
 * A device's sign-ins are audited in one log per device and UTC day (`<device id>/sign-ins/<YYYY-MM-DD>`): an agent
 * signs in again at least every 2 hours, which would soon fill a single log (MAX_AUDIT_EVENTS), and `npm run
 * audit-log -- --device` finds them all by the device.
 */
export const deviceSignInLogId = (deviceId: string, nowSeconds: number) => `${deviceId}/sign-ins/${new Date(nowSeconds * 1000).toISOString().slice(0, 10)}`;

/** Why the relay refused a device's sign-in, as the audit says it. */
type SignInRefusal = 'not-enrolled' | 'wrong-key';

async function auditSignIn(deps: RelayDeps, caller: Caller, deviceId: string, device: DeviceRecord | undefined, refusal?: SignInRefusal): Promise<void> {
  await recordAudit(
    deps,
    deviceSignInLogId(deviceId, epochSeconds(deps)),
    {
      event: refusal ? 'device-sign-in-refused' : 'device-signed-in',
      deviceId,
      ...(device && { deviceName: device.name }),
      ...(refusal ? { detail: refusal } : device && { detail: device.group }),
    },
    caller,
  );
}

export async function signInDevice(deps: RelayDeps, caller: Caller, request: SignInDeviceRequest): Promise<ServerMessage> {
  const now = epochSeconds(deps);
  // Taken before anything else: one signature attempt per challenge.
  const challenge = await deps.devices.takeChallenge(caller.connectionId, now);
  if (!challenge) throw new RelayError('device-sign-in-failed', 'no sign-in challenge is open on this connection (each is good once, for a minute); ask for one (requestDeviceChallenge), then sign it');
  const device = await deps.devices.getDevice(request.deviceId);
  if (!device) {
    await auditSignIn(deps, caller, request.deviceId, undefined, 'not-enrolled');
    throw deviceNotEnrolled();
  }
  if (!(await verifies(device.publicKey, request.signature, deviceSignInMessage(device.deviceId, challenge)))) {
    deps.log.warn('device-sign-in-refused', { deviceId: device.deviceId });
    await auditSignIn(deps, caller, device.deviceId, device, 'wrong-key');
    throw new RelayError('device-sign-in-failed', 'the signature does not match this device’s enrolled key: this machine holds another key; have the operator remove the device and enrol again');
  }
  const before = await deps.devices.attachDevice(device.deviceId, caller.connectionId, now, caller.sourceIp);
  if (!before) {
    await auditSignIn(deps, caller, device.deviceId, device, 'not-enrolled');
    throw deviceNotEnrolled();
  }
  // One connection per device: the one it held before is closed (gone already is fine).
  if (before.connectionId && before.connectionId !== caller.connectionId) await deps.notifier.disconnect(before.connectionId);
  deps.log.info('device-signed-in', { deviceId: device.deviceId, group: device.group });
  await auditSignIn(deps, caller, device.deviceId, device);
  return { type: 'deviceSignedIn', deviceId: device.deviceId, name: device.name, group: device.group };
}

export async function deviceHeartbeat(deps: RelayDeps, caller: Caller, request: DeviceHeartbeatRequest): Promise<ServerMessage> {
  if (await deps.devices.touchDevice(request.deviceId, caller.connectionId, epochSeconds(deps))) return { type: 'deviceHeartbeatAcknowledged' };
  if (!(await deps.devices.getDevice(request.deviceId))) throw deviceNotEnrolled();
  throw new RelayError('device-signed-in-elsewhere', 'this device signed in on another connection, which now holds it; this one is no longer the device’s');
}
