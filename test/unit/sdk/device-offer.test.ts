// The device's verdict on a help-desk offer: only a policy the pinned operator key signed, for its group, not
// rolled back, decides; the technician's groups pick the rule; the code opens only with the device's own key.
import { ed25519 } from '@noble/curves/ed25519.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decideOffer, organisationOf, type EnrolledDevice, type DeviceOffer } from '../../../sdk/device-offer.js';
import { generateDeviceKeyPair } from '../../../sdk/device.js';
import { encodeBase64Url } from '../../../shared/core/base64.js';
import { signGroupPolicy, type GroupPolicy } from '../../../shared/core/group-policy.js';
import { openSealedCode, sealCode, ed25519SecretFromPkcs8 } from '../../../shared/crypto/sealed-code.js';

const operatorSecret = ed25519.utils.randomSecretKey();
const operatorKey = encodeBase64Url(ed25519.getPublicKey(operatorSecret));
const policy: GroupPolicy = {
  group: 'Finance laptops',
  issuedAt: 1_800_000_000,
  rules: [
    { technicianGroup: 'Service desk', level: 'control', consent: 'ask' },
    { technicianGroup: 'Auditors', level: 'view', consent: 'notice' },
  ],
};
const technician = { issuer: 'https://login.example.org/tenant', subject: 's1', name: 'Ada Tech', email: 'ada@example.org', groups: ['Service desk'] };

async function setup() {
  const keys = await generateDeviceKeyPair();
  const device: EnrolledDevice = { deviceId: 'dev1234567890123456789', group: 'Finance laptops', operatorKey, privateKey: keys.privateKey };
  const offer: DeviceOffer = {
    sessionId: 's',
    technician,
    reason: 'INC-42: printer',
    sealedCode: await sealCode(keys.publicKey, device.deviceId, 'ABCD-EFGH-JKLM'),
    policy: signGroupPolicy(operatorSecret, policy),
  };
  return { keys, device, offer };
}

describe('the device’s verdict on an offer', () => {
  it('follows the signed rule for the technician’s groups and opens the code', async () => {
    const { device, offer } = await setup();
    const decision = await decideOffer(offer, device, 0);
    expect(decision).toMatchObject({ rule: policy.rules[0], levels: ['view', 'control'], code: 'ABCD-EFGH-JKLM' });
    const auditor = await decideOffer({ ...offer, technician: { ...technician, groups: ['Auditors'] } }, device, 0);
    expect(auditor).toMatchObject({ rule: { consent: 'notice' }, levels: ['view'] });
    expect(organisationOf(technician)).toBe('login.example.org');
  });

  it('refuses a policy a relay flipped from ask to notice, a rolled-back one, and a technician no rule names', async () => {
    const { device, offer } = await setup();
    const flipped = structuredClone(offer.policy) as ReturnType<typeof signGroupPolicy>;
    flipped.policy.rules[0]!.consent = 'notice';
    await expect(decideOffer({ ...offer, policy: flipped }, device, 0)).rejects.toMatchObject({ name: 'OfferRefusedError', code: 'bad-policy-signature' });
    await expect(decideOffer(offer, device, policy.issuedAt + 1)).rejects.toMatchObject({ code: 'policy-rolled-back' });
    await expect(decideOffer({ ...offer, technician: { ...technician, groups: ['Sales'] } }, device, 0)).rejects.toMatchObject({ code: 'not-permitted' });
  });

  it('cannot open a code sealed to another device or for another device id', async () => {
    const { device, offer } = await setup();
    const other = await generateDeviceKeyPair();
    await expect(decideOffer({ ...offer, sealedCode: await sealCode(other.publicKey, device.deviceId, 'X') }, device, 0)).rejects.toMatchObject({ code: 'unopenable-code' });
    const { keys } = await setup();
    const forOtherId = await sealCode(keys.publicKey, 'another-device-id', 'X');
    await expect(openSealedCode(ed25519SecretFromPkcs8(keys.privateKey), 'dev1234567890123456789', forOtherId)).rejects.toMatchObject({ code: 'unopenable-code' });
    await fc.assert(
      fc.asyncProperty(fc.string(), async (junk) => {
        await expect(openSealedCode(ed25519SecretFromPkcs8(keys.privateKey), 'd', junk)).rejects.toMatchObject({ code: 'unopenable-code' });
      }),
      { numRuns: 50 },
    );
  });
});
