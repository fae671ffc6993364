// The operator's approval of an enrolled device (docs/help-desk.md §3, docs/protocol.md §6): an Ed25519
// signature with the operator's key over the device's record (id, name, group, public key). The technician's
// clients pin the operator key's fingerprint from a source the relay cannot forge (`assist login --operator-key`,
// the console's confirmed fingerprint) and check each device's approval before sealing a code to its key, so a
// relay that swaps a device's key (or renames or regroups it) is caught even before a technician's first offer.
// Pure, so the operator's command, the relay's lists, the CLI and the console share it.

import { ed25519 } from '@noble/curves/ed25519.js';
import { decodeBase64Url, encodeBase64Url } from './base64.js';
import { CodedError } from './coded-error.js';
import { operatorKeyFingerprint } from './operator-key.js';

const APPROVAL_CONTEXT = 'assist-relay device approval v1';

/** What the operator's signature covers: everything a technician relies on when offering help. */
export interface ApprovedDevice {
  deviceId: string;
  name: string;
  group: string;
  /** Ed25519, raw, base64url. */
  publicKey: string;
}

export interface DeviceApproval {
  /** The operator's Ed25519 public key (base64url): the technician's client checks it against its pinned fingerprint. */
  operatorKey: string;
  /** Ed25519 over deviceApprovalBytes(device), base64url. */
  signature: string;
  /** Epoch seconds, for the operator's lists (not signed: nothing depends on it). */
  approvedAt: number;
}

/** operator-key-not-pinned: the technician's client has no operator key to check approvals with (the client says how to pin one). */
export type DeviceApprovalErrorCode = 'device-not-approved' | 'operator-key-not-pinned' | 'operator-key-changed' | 'device-signature-invalid';

export class DeviceApprovalError extends CodedError<DeviceApprovalErrorCode> {
  override readonly name = 'DeviceApprovalError';
}

export function deviceApprovalBytes({ deviceId, name, group, publicKey }: ApprovedDevice): Uint8Array {
  return new TextEncoder().encode(`${APPROVAL_CONTEXT}\n${JSON.stringify([deviceId, name, group, publicKey])}`);
}

/** The operator's side: signs the device's record with the operator's 32-byte Ed25519 secret key. */
export function signDeviceApproval(secretKey: Uint8Array, device: ApprovedDevice, approvedAt: number): DeviceApproval {
  return { operatorKey: encodeBase64Url(ed25519.getPublicKey(secretKey)), signature: encodeBase64Url(ed25519.sign(deviceApprovalBytes(device), secretKey)), approvedAt };
}

/** A key's fingerprint, to compare by eye (`assist enrol` shows the device's, the operator's lists show it too); a list shows whatever is stored, so no throw. */
export function deviceKeyFingerprint(publicKey: string): string {
  try {
    return operatorKeyFingerprint(publicKey);
  } catch {
    return '(not a key)';
  }
}

/** Whether the signature holds for this record and operator key (false for anything malformed). */
function signatureHolds(device: ApprovedDevice, approval: DeviceApproval): boolean {
  try {
    return ed25519.verify(decodeBase64Url(approval.signature), deviceApprovalBytes(device), decodeBase64Url(approval.operatorKey));
  } catch {
    return false;
  }
}

/**
 * The technician's side: the device's record as listed is the one the operator approved, with the operator key
 * whose fingerprint this technician pinned; else a typed refusal saying what to do. Nothing may be sent to a
 * device that fails this.
 */
export function verifyDeviceApproval(pinnedOperatorKey: string, device: ApprovedDevice & { approval?: DeviceApproval | undefined }): void {
  const { approval } = device;
  if (!approval) {
    throw new DeviceApprovalError(
      'device-not-approved',
      `${device.name} is awaiting the operator's approval, so it cannot be offered help yet; the operator approves it after comparing its key fingerprint with the one \`assist enrol\` showed on it (npm run operator -- device approve ${device.deviceId})`,
    );
  }
  const presented = deviceKeyFingerprint(approval.operatorKey);
  if (presented !== pinnedOperatorKey) {
    throw new DeviceApprovalError(
      'operator-key-changed',
      `THE OPERATOR KEY THAT APPROVED ${device.name} (${presented}) IS NOT THE ONE YOU PINNED (${pinnedOperatorKey}): the relay may be posing as that device, so nothing was sent. Ask the operator for the key's fingerprint (npm run operator -- operator-key) over another channel; only if the operator really made a new key, sign in again with it (assist login --operator-key=FINGERPRINT)`,
    );
  }
  if (!signatureHolds(device, approval)) {
    throw new DeviceApprovalError(
      'device-signature-invalid',
      `THE RECORD OF DEVICE "${device.name}" (${device.deviceId}) IS NOT THE ONE THE OPERATOR APPROVED: its key, name or group was changed on the relay, which may be posing as that device, so nothing was sent. Tell the operator`,
    );
  }
}
