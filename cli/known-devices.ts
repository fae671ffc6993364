// The technician's pinned device keys (docs/help-desk.md, "Device keys"): `known-devices.json` in the state
// directory (cli/state.ts), only its user can read it. The first key seen for a device is kept; an offer to a
// device listed with another key is refused (sdk/device-key-pins.ts). A file that cannot be read is an error,
// never an empty list: that would pin whatever the relay says next.

import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DeviceKeyPins, PinnedDeviceKey } from '../sdk/node.js';
import { CodedError } from '../shared/core/coded-error.js';
import { writePrivately } from './device-state.js';
import { stateDirectory } from './state.js';

export const KNOWN_DEVICES_VERSION = 1;

interface KnownDevices {
  version: typeof KNOWN_DEVICES_VERSION;
  devices: Array<PinnedDeviceKey & { firstSeenAt: string }>;
}

export class KnownDevicesError extends CodedError<'unreadable-known-devices'> {
  override readonly name = 'KnownDevicesError';
}

export const knownDevicesFile = (directory = stateDirectory()) => join(directory, 'known-devices.json');

const isPin = (value: unknown): value is KnownDevices['devices'][number] =>
  typeof value === 'object' && value !== null && (['deviceId', 'name', 'publicKey', 'firstSeenAt'] as const).every((key) => typeof (value as Record<string, unknown>)[key] === 'string');

function readKnownDevices(file: string): KnownDevices {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { version: KNOWN_DEVICES_VERSION, devices: [] };
    throw new KnownDevicesError('unreadable-known-devices', `${file} cannot be read (${(error as Error).message}); check its owner and permissions`);
  }
  try {
    const known = JSON.parse(text) as Partial<KnownDevices>;
    if (known.version !== KNOWN_DEVICES_VERSION || !Array.isArray(known.devices) || !known.devices.every(isPin)) throw new Error('not a list of device keys');
    return known as KnownDevices;
  } catch (error) {
    throw new KnownDevicesError('unreadable-known-devices', `${file} is damaged (${(error as Error).message}); restore it, or delete it to trust each device's key again when next offered help`);
  }
}

/** The pins in `known-devices.json`, read afresh for each offer (several assist processes may run). */
export function knownDeviceKeys(directory = stateDirectory(), now: () => Date = () => new Date()): DeviceKeyPins {
  const file = knownDevicesFile(directory);
  return {
    pinned: (deviceId) => readKnownDevices(file).devices.find((device) => device.deviceId === deviceId),
    pin: ({ deviceId, name, publicKey }) => {
      const known = readKnownDevices(file);
      mkdirSync(directory, { recursive: true, mode: 0o700 });
      writePrivately(file, { ...known, devices: [...known.devices, { deviceId, name, publicKey, firstSeenAt: now().toISOString() }] });
    },
  };
}
