// The technician's pinned device keys in known-devices.json: kept across processes, only its user can read the
// file, a changed key is refused, and a damaged file is an error, never an empty list that would trust anything.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { knownDeviceKeys, knownDevicesFile, pinnedOperatorKey, pinOperatorKey, requirePinnedOperatorKey } from '../../../cli/known-devices.js';
import { checkDeviceKey } from '../../../sdk/device-key-pins.js';

const directories: string[] = [];
afterEach(() => {
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});
const newDirectory = () => {
  const directory = mkdtempSync(join(tmpdir(), 'known-devices-'));
  directories.push(directory);
  return join(directory, 'state');
};
const pc = { deviceId: 'dev1234567890123456789', name: 'Reception PC', publicKey: 'K'.repeat(43) };

describe('known-devices.json', () => {
  it('pins the first key seen for a device, for every later process, in a file only its user can read', async () => {
    const directory = newDirectory();
    await checkDeviceKey(knownDeviceKeys(directory, () => new Date('2030-01-01T00:00:00Z')), pc);
    expect(statSync(knownDevicesFile(directory)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(knownDevicesFile(directory), 'utf8'))).toEqual({ version: 1, devices: [{ ...pc, firstSeenAt: '2030-01-01T00:00:00.000Z' }] });
    const later = knownDeviceKeys(directory);
    await checkDeviceKey(later, pc);
    await expect(checkDeviceKey(later, { ...pc, name: 'Renamed', publicKey: 'R'.repeat(43) })).rejects.toMatchObject({ code: 'device-key-changed' });
    expect(later.pinned(pc.deviceId)).toMatchObject({ publicKey: pc.publicKey });
  });

  it('pins the operator key per relay beside the device keys; none pinned: a refusal naming what the relay presents and how to pin', async () => {
    const directory = newDirectory();
    await checkDeviceKey(knownDeviceKeys(directory), pc);
    expect(() => requirePinnedOperatorKey('https://relay.example.org/', 'PresentedByTheRelay000', directory)).toThrow(
      expect.objectContaining({ name: 'DeviceApprovalError', code: 'operator-key-not-pinned', message: expect.stringMatching(/operator key PresentedByTheRelay000: do not take its word.*assist login --relay https:\/\/relay\.example\.org --operator-key=FINGERPRINT/) }),
    );
    pinOperatorKey('https://relay.example.org/technician', 'OperatorKey00000000000', directory, () => new Date('2030-01-01T00:00:00Z'));
    pinOperatorKey('https://other.example.net', 'OtherKey00000000000000', directory);
    expect(requirePinnedOperatorKey('https://relay.example.org', undefined, directory)).toBe('OperatorKey00000000000');
    pinOperatorKey('https://relay.example.org', 'NewKey0000000000000000', directory);
    expect(pinnedOperatorKey('https://relay.example.org', directory)).toBe('NewKey0000000000000000');
    expect(pinnedOperatorKey('https://other.example.net', directory)).toBe('OtherKey00000000000000');
    // The device keys stay; the file stays private.
    expect(knownDeviceKeys(directory).pinned(pc.deviceId)).toMatchObject({ publicKey: pc.publicKey });
    expect(statSync(knownDevicesFile(directory)).mode & 0o777).toBe(0o600);
  });

  it('refuses a damaged file instead of starting over', async () => {
    const directory = newDirectory();
    await checkDeviceKey(knownDeviceKeys(directory), pc);
    writeFileSync(knownDevicesFile(directory), '{"version":1,"devices":[{"deviceId":1}]}');
    expect(() => knownDeviceKeys(directory).pinned(pc.deviceId)).toThrow(expect.objectContaining({ code: 'unreadable-known-devices', message: expect.stringContaining('delete it') }));
  });
});
