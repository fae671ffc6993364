// Enrolment use cases on the in-memory registry with a fake clock: tokens kept hashed, spent once (or
// N times), refused when expired or revoked; devices listed and removed.
import { describe, expect, it } from 'vitest';
import {
  createEnrolmentToken,
  enrolDevice,
  listDevices,
  listEnrolmentTokens,
  newDeviceId,
  OperatorError,
  removeDevice,
  revokeEnrolmentToken,
} from '../../../shared/server/use-cases/enrolment.js';
import { RelayError } from '../../../shared/server/use-cases/errors.js';
import { hashToken } from '../../../shared/core/tokens.js';
import { deviceIdPattern } from '../../../shared/core/schemas.js';
import { operatorKeyFingerprint } from '../../../shared/core/operator-key.js';
import { MemoryRelay } from '../../support/memory-relay.js';

const DAY = 86_400;
const KEY = 'A'.repeat(42) + 'E';
const OPERATOR_KEY = 'B'.repeat(42) + 'E';

function setup() {
  const relay = new MemoryRelay();
  const caller = { connectionId: 'c1', sourceIp: '192.0.2.1' };
  const enrol = (token: string, name = 'Reception PC') => enrolDevice(relay.deps, caller, { action: 'enrolDevice', token, publicKey: KEY, name, os: 'linux' });
  return { devices: relay.devices, seconds: relay.clock.nowSeconds, enrol, advance: (seconds: number) => relay.clock.advanceSeconds(seconds) };
}

const refusedToken = expect.objectContaining({ code: 'invalid-enrolment-token' });

describe('enrolment tokens', () => {
  it('are stored only as their hash, and enrol a device into their group once', async () => {
    const { devices, seconds, enrol } = setup();
    const { token, record } = await createEnrolmentToken(devices, seconds(), { operatorKey: OPERATOR_KEY, group: 'Finance laptops', ttlSeconds: 7 * DAY });
    expect(record.tokenHash).toBe(hashToken(token));
    // It ends with the operator key's fingerprint, which the device checks the key it is handed against.
    expect(token.endsWith(operatorKeyFingerprint(OPERATOR_KEY))).toBe(true);
    expect(JSON.stringify(await listEnrolmentTokens(devices))).not.toContain(token);

    const enrolled = await enrol(token);
    expect(enrolled).toMatchObject({ type: 'deviceEnrolled', name: 'Reception PC', group: 'Finance laptops', enrolledAt: seconds(), operatorKey: OPERATOR_KEY });
    expect(await listDevices(devices)).toEqual([
      expect.objectContaining({ name: 'Reception PC', group: 'Finance laptops', os: 'linux', publicKey: KEY, enrolledWith: record.tokenId }),
    ]);
    await expect(enrol(token, 'Second PC')).rejects.toEqual(refusedToken);
    expect(await listDevices(devices)).toHaveLength(1);
  });

  it('with --uses N enrol N devices, then no more', async () => {
    const { devices, seconds, enrol } = setup();
    const { token } = await createEnrolmentToken(devices, seconds(), { operatorKey: OPERATOR_KEY, group: 'Kiosks', ttlSeconds: DAY, uses: 3 });
    for (const name of ['k1', 'k2', 'k3']) await enrol(token, name);
    await expect(enrol(token, 'k4')).rejects.toEqual(refusedToken);
    expect((await listDevices(devices)).map((device) => device.name)).toEqual(['k1', 'k2', 'k3']);
  });

  it('are refused once expired, and once revoked, and nothing is registered', async () => {
    const { devices, seconds, enrol, advance } = setup();
    const expiring = await createEnrolmentToken(devices, seconds(), { operatorKey: OPERATOR_KEY, group: 'G', ttlSeconds: 60 });
    const revoked = await createEnrolmentToken(devices, seconds(), { operatorKey: OPERATOR_KEY, group: 'G', ttlSeconds: DAY });
    await revokeEnrolmentToken(devices, revoked.record.tokenId);
    await expect(enrol(revoked.token)).rejects.toEqual(refusedToken);
    advance(60);
    await expect(enrol(expiring.token)).rejects.toEqual(refusedToken);
    await expect(enrol('x'.repeat(43))).rejects.toBeInstanceOf(RelayError);
    expect(await listDevices(devices)).toEqual([]);
    expect(await listEnrolmentTokens(devices)).toEqual([]);
  });

  it('are refused with a reason for a bad group, lifetime or number of uses', async () => {
    const { devices, seconds } = setup();
    const make = (request: Parameters<typeof createEnrolmentToken>[2]) => createEnrolmentToken(devices, seconds(), request);
    await expect(make({ operatorKey: OPERATOR_KEY, group: ' ', ttlSeconds: DAY })).rejects.toMatchObject({ code: 'invalid-group' });
    await expect(make({ operatorKey: OPERATOR_KEY, group: 'a\u202Eb', ttlSeconds: DAY })).rejects.toMatchObject({ code: 'invalid-group' });
    await expect(make({ operatorKey: OPERATOR_KEY, group: 'G', ttlSeconds: 91 * DAY })).rejects.toMatchObject({ code: 'invalid-expiry' });
    await expect(make({ operatorKey: OPERATOR_KEY, group: 'G', ttlSeconds: DAY, uses: 0 })).rejects.toMatchObject({ code: 'invalid-uses' });
    await expect(make({ operatorKey: OPERATOR_KEY, group: 'G', ttlSeconds: DAY, uses: Number.NaN })).rejects.toMatchObject({ code: 'invalid-uses' });
    expect(await listEnrolmentTokens(devices)).toEqual([]);
  });

  it('revoking an unknown id says how to list them', async () => {
    const { devices } = setup();
    await expect(revokeEnrolmentToken(devices, 'nope')).rejects.toThrow(/npm run operator -- enrolment-tokens/);
  });
});

describe('removing a device', () => {
  it('by id or by a unique name; an ambiguous name lists the ids', async () => {
    const { devices, seconds, enrol } = setup();
    const { token } = await createEnrolmentToken(devices, seconds(), { operatorKey: OPERATOR_KEY, group: 'G', ttlSeconds: DAY, uses: 3 });
    const first = await enrol(token, 'Twin');
    const second = await enrol(token, 'Twin');
    const other = await enrol(token, 'Other');
    if (first.type !== 'deviceEnrolled' || second.type !== 'deviceEnrolled' || other.type !== 'deviceEnrolled') throw new Error('not enrolled');

    const ambiguous = removeDevice(devices, 'Twin');
    await expect(ambiguous).rejects.toBeInstanceOf(OperatorError);
    await expect(removeDevice(devices, 'Twin')).rejects.toThrow(new RegExp(`${first.deviceId}.*${second.deviceId}|${second.deviceId}.*${first.deviceId}`));
    expect((await removeDevice(devices, first.deviceId)).deviceId).toBe(first.deviceId);
    expect((await removeDevice(devices, 'Twin')).deviceId).toBe(second.deviceId);
    expect((await removeDevice(devices, 'Other')).deviceId).toBe(other.deviceId);
    expect(await devices.getDevice(first.deviceId)).toBeUndefined();
    await expect(removeDevice(devices, 'Other')).rejects.toMatchObject({ code: 'no-such-device' });
  });
});

describe('what people type as arguments', () => {
  it('device ids never start with - or _ (an operator types them: device remove ID), and are what the relay reads as one', () => {
    for (let index = 0; index < 2000; index++) {
      const deviceId = newDeviceId();
      expect(deviceId).not.toMatch(/^[-_]/);
      expect(deviceId).toMatch(deviceIdPattern);
    }
    expect(deviceIdPattern.test('-ABCDEFGHIJKLMNOPQRSTU')).toBe(false);
  });

  it('enrolment tokens never start with - or _ (assist enrol --token -x… would read it as an option)', async () => {
    const { devices } = setup();
    for (let index = 0; index < 2000; index++) {
      const { token } = await createEnrolmentToken(devices, 0, { group: 'Kiosks', ttlSeconds: DAY, operatorKey: OPERATOR_KEY });
      expect(token).not.toMatch(/^[-_]/);
    }
  });
});
