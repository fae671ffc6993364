// The operator's approval of a device record: it holds for exactly the id, name, group and key the operator
// signed, with the operator key the technician pinned; anything else is a typed refusal with a sentence, never
// another exception, whatever the relay sends.
import { ed25519 } from '@noble/curves/ed25519.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeBase64Url } from '../../../shared/core/base64.js';
import { deviceKeyFingerprint, DeviceApprovalError, signDeviceApproval, verifyDeviceApproval, type DeviceApproval } from '../../../shared/core/device-approval.js';
import { operatorKeyFingerprint } from '../../../shared/core/operator-key.js';

const operatorSecret = ed25519.utils.randomSecretKey();
const pinned = operatorKeyFingerprint(encodeBase64Url(ed25519.getPublicKey(operatorSecret)));
const device = { deviceId: 'dev1234567890123456789', name: 'Reception PC', group: 'Finance laptops', publicKey: encodeBase64Url(ed25519.getPublicKey(ed25519.utils.randomSecretKey())) };
const approval = signDeviceApproval(operatorSecret, device, 1_800_000_000);
const refusal = (code: DeviceApprovalError['code']) => expect.objectContaining({ name: 'DeviceApprovalError', code });

describe('a device approval', () => {
  it('holds for the record the operator signed, with the pinned operator key', () => {
    expect(() => verifyDeviceApproval(pinned, { ...device, approval })).not.toThrow();
    expect(approval.operatorKey).toBe(encodeBase64Url(ed25519.getPublicKey(operatorSecret)));
    expect(deviceKeyFingerprint(device.publicKey)).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it('is refused when missing, for a swapped key, name or group, and when another operator key signed it', () => {
    expect(() => verifyDeviceApproval(pinned, device)).toThrow(refusal('device-not-approved'));
    const relayKey = encodeBase64Url(ed25519.getPublicKey(ed25519.utils.randomSecretKey()));
    for (const change of [{ publicKey: relayKey }, { name: 'CEO laptop' }, { group: 'Kiosks' }, { deviceId: 'dev0000000000000000000' }]) {
      expect(() => verifyDeviceApproval(pinned, { ...device, ...change, approval })).toThrow(refusal('device-signature-invalid'));
    }
    // The relay's own operator key, signing the swapped record: not the pinned one.
    const relaySigned = signDeviceApproval(ed25519.utils.randomSecretKey(), { ...device, publicKey: relayKey }, 1_800_000_000);
    expect(() => verifyDeviceApproval(pinned, { ...device, publicKey: relayKey, approval: relaySigned })).toThrow(refusal('operator-key-changed'));
    // The pinned key named, the signature another key's.
    expect(() => verifyDeviceApproval(pinned, { ...device, approval: { ...relaySigned, operatorKey: approval.operatorKey } })).toThrow(refusal('device-signature-invalid'));
    expect(() => verifyDeviceApproval(pinned, device)).toThrow(/awaiting the operator's approval.*device approve dev1234567890123456789/);
  });

  it('refuses whatever a relay sends instead with a typed error', () => {
    fc.assert(
      fc.property(fc.record({ operatorKey: fc.oneof(fc.string(), fc.constant(approval.operatorKey)), signature: fc.string(), approvedAt: fc.integer() }), (forged: DeviceApproval) => {
        expect(() => verifyDeviceApproval(pinned, { ...device, approval: forged })).toThrow(DeviceApprovalError);
      }),
    );
  });
});
