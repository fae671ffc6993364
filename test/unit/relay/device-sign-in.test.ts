// Device sign-in use cases on the in-memory adapters with a fake clock: a one-time challenge signed with the
// enrolled key, good for a minute (no sleeping), refusals audited by device and day, a new sign-in taking the
// device over from its earlier connection, and heartbeats only from the connection that holds it.
import { describe, expect, it } from 'vitest';
import { decodeBase64Url, encodeBase64Url } from '../../../shared/core/base64.js';
import { DEVICE_CHALLENGE_TTL_SECONDS, deviceSignInMessage } from '../../../shared/core/device-sign-in.js';
import type { Caller } from '../../../shared/server/use-cases/deps.js';
import { deviceHeartbeat, deviceSignInLogId, requestDeviceChallenge, signInDevice } from '../../../shared/server/use-cases/device-sign-in.js';
import { createEnrolmentToken, enrolDevice } from '../../../shared/server/use-cases/enrolment.js';
import { generateDeviceKeyPair, type DeviceKeyPair } from '../../../sdk/device.js';
import { MemoryRelay } from '../../support/memory-relay.js';
import { as, refusal } from './support/sessions.js';

const OPERATOR_KEY = 'B'.repeat(42) + 'E';

/** A relay with one device enrolled in "Finance laptops" under `keys`. */
async function enrolled() {
  const relay = new MemoryRelay();
  const keys = await generateDeviceKeyPair();
  const { token } = await createEnrolmentToken(relay.devices, relay.clock.nowSeconds(), { operatorKey: OPERATOR_KEY, group: 'Finance laptops', ttlSeconds: 3600 });
  const enrolling = await relay.connect();
  const { deviceId } = as('deviceEnrolled', await enrolDevice(relay.deps, enrolling, { action: 'enrolDevice', token, publicKey: keys.publicKey, name: 'Reception PC', os: 'linux' }));
  return { relay, keys, deviceId };
}

/** The device's signature over the sign-in message for `challenge`, with `keys`' private key. */
async function sign(keys: DeviceKeyPair, deviceId: string, challenge: string): Promise<string> {
  const key = await crypto.subtle.importKey('pkcs8', new Uint8Array(decodeBase64Url(keys.privateKey)), { name: 'Ed25519' }, false, ['sign']);
  return encodeBase64Url(new Uint8Array(await crypto.subtle.sign({ name: 'Ed25519' }, key, deviceSignInMessage(deviceId, challenge))));
}

/** Asks for a challenge on `caller`'s connection and answers it signed with `keys`. */
async function signIn(relay: MemoryRelay, caller: Caller, keys: DeviceKeyPair, deviceId: string) {
  const { challenge } = as('deviceChallenge', await requestDeviceChallenge(relay.deps, caller));
  return signInDevice(relay.deps, caller, { action: 'signInDevice', deviceId, signature: await sign(keys, deviceId, challenge) });
}

const signInLog = (relay: MemoryRelay, deviceId: string) => relay.audit.list(deviceSignInLogId(deviceId, relay.clock.nowSeconds()));

describe('device sign-in', () => {
  it('signs in with the enrolled key over a challenge that is good once; audited in the device’s log of the day', async () => {
    const { relay, keys, deviceId } = await enrolled();
    const caller = await relay.connect('192.0.2.10');
    const { challenge } = as('deviceChallenge', await requestDeviceChallenge(relay.deps, caller));
    const signature = await sign(keys, deviceId, challenge);
    expect(await signInDevice(relay.deps, caller, { action: 'signInDevice', deviceId, signature })).toEqual({
      type: 'deviceSignedIn',
      deviceId,
      name: 'Reception PC',
      group: 'Finance laptops',
    });
    expect(await relay.devices.getDevice(deviceId)).toMatchObject({ connectionId: caller.connectionId, lastSeenAt: relay.clock.nowSeconds(), sourceIp: '192.0.2.10' });
    // The same signature again: the challenge was taken by the first attempt.
    await expect(signInDevice(relay.deps, caller, { action: 'signInDevice', deviceId, signature })).rejects.toEqual(refusal('device-sign-in-failed'));
    expect(await signInLog(relay, deviceId)).toEqual([
      expect.objectContaining({ event: 'device-signed-in', deviceId, deviceName: 'Reception PC', detail: 'Finance laptops', sourceIp: '192.0.2.10' }),
    ]);
  });

  it('a challenge is good for a minute: signed after that, it is refused', async () => {
    const { relay, keys, deviceId } = await enrolled();
    const caller = await relay.connect();
    const { challenge } = as('deviceChallenge', await requestDeviceChallenge(relay.deps, caller));
    relay.advanceSeconds(DEVICE_CHALLENGE_TTL_SECONDS);
    const signature = await sign(keys, deviceId, challenge);
    await expect(signInDevice(relay.deps, caller, { action: 'signInDevice', deviceId, signature })).rejects.toEqual(refusal('device-sign-in-failed'));
    expect((await relay.devices.getDevice(deviceId))?.connectionId).toBeUndefined();

    // One a second younger still signs in.
    const fresh = as('deviceChallenge', await requestDeviceChallenge(relay.deps, caller));
    relay.advanceSeconds(DEVICE_CHALLENGE_TTL_SECONDS - 1);
    expect(await signInDevice(relay.deps, caller, { action: 'signInDevice', deviceId, signature: await sign(keys, deviceId, fresh.challenge) })).toMatchObject({ type: 'deviceSignedIn' });
  });

  it('another key, or a device nobody enrolled, is refused; both refusals are audited, and nothing is attached', async () => {
    const { relay, deviceId } = await enrolled();
    const impostor = await generateDeviceKeyPair();
    const caller = await relay.connect();
    await expect(signIn(relay, caller, impostor, deviceId)).rejects.toEqual(refusal('device-sign-in-failed'));
    expect((await relay.devices.getDevice(deviceId))?.connectionId).toBeUndefined();
    const unknown = 'X'.repeat(22);
    await expect(signIn(relay, caller, impostor, unknown)).rejects.toEqual(refusal('device-not-enrolled'));
    expect(await signInLog(relay, deviceId)).toEqual([expect.objectContaining({ event: 'device-sign-in-refused', detail: 'wrong-key' })]);
    expect(await signInLog(relay, unknown)).toEqual([expect.objectContaining({ event: 'device-sign-in-refused', detail: 'not-enrolled' })]);
  });

  it('a new sign-in takes the device over: the earlier connection is closed, and only the new one’s heartbeats count', async () => {
    const { relay, keys, deviceId } = await enrolled();
    const first = await relay.connect();
    await signIn(relay, first, keys, deviceId);
    relay.advanceSeconds(120);
    expect(await deviceHeartbeat(relay.deps, first, { action: 'deviceHeartbeat', deviceId })).toEqual({ type: 'deviceHeartbeatAcknowledged' });
    expect((await relay.devices.getDevice(deviceId))?.lastSeenAt).toBe(relay.clock.nowSeconds());

    const second = await relay.connect();
    await signIn(relay, second, keys, deviceId);
    expect(relay.notifier.disconnected).toEqual([first.connectionId]);
    await expect(deviceHeartbeat(relay.deps, first, { action: 'deviceHeartbeat', deviceId })).rejects.toEqual(refusal('device-signed-in-elsewhere'));
    expect(await deviceHeartbeat(relay.deps, second, { action: 'deviceHeartbeat', deviceId })).toEqual({ type: 'deviceHeartbeatAcknowledged' });

    // Signing in again on the connection that holds it closes nothing.
    await signIn(relay, second, keys, deviceId);
    expect(relay.notifier.disconnected).toEqual([first.connectionId]);
  });

  it('a removed device’s heartbeat is refused as not enrolled', async () => {
    const { relay, keys, deviceId } = await enrolled();
    const caller = await relay.connect();
    await signIn(relay, caller, keys, deviceId);
    await relay.devices.removeDevice(deviceId);
    await expect(deviceHeartbeat(relay.deps, caller, { action: 'deviceHeartbeat', deviceId })).rejects.toEqual(refusal('device-not-enrolled'));
  });
});
