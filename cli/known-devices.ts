// What the technician trusts about devices (docs/help-desk.md, "Device keys"): `known-devices.json` in the state
// directory (cli/state.ts), only its user can read it. Per relay, the fingerprint of the operator key that
// approves its devices, pinned by `assist login --operator-key` (the relay cannot forge it); and the first key
// seen for each device, a second check (sdk/device-key-pins.ts). A file that cannot be read is an error, never an
// empty list: that would pin whatever the relay says next.

import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DeviceKeyPins, PinnedDeviceKey } from '../sdk/node.js';
import { CodedError } from '../shared/core/coded-error.js';
import { DeviceApprovalError } from '../shared/core/device-approval.js';
import { writePrivately } from './device-state.js';
import { stateDirectory } from './state.js';

export const KNOWN_DEVICES_VERSION = 1;

interface PinnedOperatorKey {
  /** The relay's https:// origin. */
  relay: string;
  fingerprint: string;
  pinnedAt: string;
}

interface KnownDevices {
  version: typeof KNOWN_DEVICES_VERSION;
  devices: Array<PinnedDeviceKey & { firstSeenAt: string }>;
  /** Absent in files written before operator approvals. */
  operatorKeys?: PinnedOperatorKey[];
}

export class KnownDevicesError extends CodedError<'unreadable-known-devices'> {
  override readonly name = 'KnownDevicesError';
}

export const knownDevicesFile = (directory = stateDirectory()) => join(directory, 'known-devices.json');

const isPin = (value: unknown): value is KnownDevices['devices'][number] =>
  typeof value === 'object' && value !== null && (['deviceId', 'name', 'publicKey', 'firstSeenAt'] as const).every((key) => typeof (value as Record<string, unknown>)[key] === 'string');

const isOperatorPin = (value: unknown): value is PinnedOperatorKey =>
  typeof value === 'object' && value !== null && (['relay', 'fingerprint', 'pinnedAt'] as const).every((key) => typeof (value as Record<string, unknown>)[key] === 'string');

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
    const operatorKeysHold = known.operatorKeys === undefined || (Array.isArray(known.operatorKeys) && known.operatorKeys.every(isOperatorPin));
    if (known.version !== KNOWN_DEVICES_VERSION || !Array.isArray(known.devices) || !known.devices.every(isPin) || !operatorKeysHold) throw new Error('not a list of device keys');
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

/** The operator key fingerprint pinned for the relay at `relayHttpUrl`, if any. */
export function pinnedOperatorKey(relayHttpUrl: string, directory = stateDirectory()): string | undefined {
  const relay = new URL(relayHttpUrl).origin;
  return readKnownDevices(knownDevicesFile(directory)).operatorKeys?.find((pin) => pin.relay === relay)?.fingerprint;
}

/** Pins (or, given again, replaces) the operator key fingerprint for the relay at `relayHttpUrl`. */
export function pinOperatorKey(relayHttpUrl: string, fingerprint: string, directory = stateDirectory(), now: () => Date = () => new Date()): void {
  const relay = new URL(relayHttpUrl).origin;
  const file = knownDevicesFile(directory);
  const known = readKnownDevices(file);
  mkdirSync(directory, { recursive: true, mode: 0o700 });
  const others = (known.operatorKeys ?? []).filter((pin) => pin.relay !== relay);
  writePrivately(file, { ...known, operatorKeys: [...others, { relay, fingerprint, pinnedAt: now().toISOString() }] });
}

/**
 * The operator key fingerprint this technician trusts for the relay; none pinned: a refusal that shows the
 * fingerprint the relay presents (`seen`, from the devices' approvals) and how to pin one after checking it.
 */
export function requirePinnedOperatorKey(relayHttpUrl: string, seen: string | undefined, directory = stateDirectory()): string {
  const pinned = pinnedOperatorKey(relayHttpUrl, directory);
  if (pinned !== undefined) return pinned;
  const presented = seen === undefined ? '' : ` The relay says its devices are approved by the operator key ${seen}: do not take its word for it.`;
  throw new DeviceApprovalError(
    'operator-key-not-pinned',
    `you have not pinned the operator key that approves this relay's devices, so no device can be trusted yet.${presented} Ask your operator for the key's fingerprint over another channel (they see it with: npm run operator -- operator-key), then sign in with it: assist login --relay ${new URL(relayHttpUrl).origin} --operator-key=FINGERPRINT`,
  );
}
