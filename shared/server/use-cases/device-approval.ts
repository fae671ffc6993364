// The operator approves enrolled devices (docs/help-desk.md §3): the operator's key signs each device's record,
// and technicians' clients offer help only to devices whose record carries that signature (shared/core/
// device-approval.ts). The operator's command runs this against the table directly; no relay route signs.

import { deviceKeyFingerprint, signDeviceApproval } from '../../core/device-approval.js';
import type { DeviceRecord, DeviceRegistry } from '../ports/device-registry.js';
import { findDevice, listDevices, OperatorError } from './enrolment.js';

/**
 * Signs the device's record (id, name, group, key) with the operator's key: from then on technicians may offer
 * it help, and their clients catch a relay that changes any of it. `fingerprint`, when given, must be the key's
 * fingerprint as `assist enrol` showed it on the device: the relay's table is not the device's word.
 */
export async function approveDevice(registry: DeviceRegistry, operatorSecretKey: Uint8Array, which: string, nowSeconds: number, fingerprint?: string): Promise<DeviceRecord> {
  const device = await findDevice(registry, which);
  const listed = deviceKeyFingerprint(device.publicKey);
  if (fingerprint !== undefined && fingerprint !== listed) {
    throw new OperatorError(
      'fingerprint-mismatch',
      `the relay lists ${device.name} (${device.deviceId}) with the key fingerprint ${listed}, not ${fingerprint}: not approved. If the device showed ${fingerprint}, the relay's record is not that device's: remove it and enrol the device again`,
    );
  }
  const approval = signDeviceApproval(operatorSecretKey, device, nowSeconds);
  if (!(await registry.approveDevice(device.deviceId, device.publicKey, approval))) {
    throw new OperatorError('no-such-device', `the device "${which}" was removed or enrolled with another key meanwhile; list the devices again`);
  }
  return { ...device, approval };
}

/** The devices awaiting approval, by group then name. */
export async function listPendingDevices(registry: DeviceRegistry): Promise<DeviceRecord[]> {
  return (await listDevices(registry)).filter((device) => !device.approval);
}
