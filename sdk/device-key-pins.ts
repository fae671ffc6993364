// The technician's memory of device keys (docs/protocol.md, "Help-desk offers"): the first key seen for a device
// is pinned, and an offer to a device whose listed key differs is refused before anything is sealed to it. The
// list comes from the relay, so without this a relay could put its own key in place of a device's, open the
// sealed code and pose as the device. Where the pins live is the client's (assist's state file, a browser's storage).

import { CodedError } from '../shared/core/coded-error.js';

export interface PinnedDeviceKey {
  deviceId: string;
  name: string;
  /** Ed25519, raw, base64url. */
  publicKey: string;
}

export interface DeviceKeyPins {
  pinned(deviceId: string): PinnedDeviceKey | undefined;
  pin(device: PinnedDeviceKey): void | Promise<void>;
}

export type DeviceKeyPinErrorCode = 'device-key-changed';

export class DeviceKeyPinError extends CodedError<DeviceKeyPinErrorCode> {
  override readonly name = 'DeviceKeyPinError';
}

/** Pins a device's key when first seen; refuses a device whose key is not the pinned one. */
export async function checkDeviceKey(pins: DeviceKeyPins, device: PinnedDeviceKey): Promise<void> {
  const known = pins.pinned(device.deviceId);
  if (!known) return pins.pin({ deviceId: device.deviceId, name: device.name, publicKey: device.publicKey });
  if (known.publicKey !== device.publicKey) {
    throw new DeviceKeyPinError(
      'device-key-changed',
      `THE KEY OF DEVICE "${device.name}" (${device.deviceId}) HAS CHANGED since you first offered help to it as "${known.name}": the relay may be posing as that device, so nothing was sent. Tell the operator; only if the device was really enrolled again, forget its old key and offer again`,
    );
  }
}

/** Pins kept in memory: for a browser tab or a test; `initial` pins some up front. */
export function memoryDeviceKeyPins(initial: readonly PinnedDeviceKey[] = []): DeviceKeyPins {
  const keys = new Map(initial.map((device) => [device.deviceId, device]));
  return { pinned: (deviceId) => keys.get(deviceId), pin: (device) => void keys.set(device.deviceId, device) };
}
