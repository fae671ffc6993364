// The device's verdict on a help-desk offer: only a technician the pinned issuer vouches for, whose key signed
// exactly this offer, lately and once; only a policy the pinned operator key signed, for its group, not rolled
// back, decides; the verified technician's groups pick the rule; the code opens only with the device's own key.
// Each relay attack (altered identity, reason, code, session; a replayed or stale proof; a forged token) is refused.
import { ed25519 } from '@noble/curves/ed25519.js';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { decideOffer, offerToDevice, organisationOf, type DeviceOffer, type EnrolledDevice, type OfferChecks } from '../../../sdk/device-offer.js';
import { memoryDeviceKeyPins, type DeviceKeyPins } from '../../../sdk/device-key-pins.js';
import { signDeviceApproval, type ApprovedDevice } from '../../../shared/core/device-approval.js';
import { operatorKeyFingerprint } from '../../../shared/core/operator-key.js';
import type { HelpOffer } from '../../../sdk/assist.js';
import { generateDeviceKeyPair } from '../../../sdk/device.js';
import { encodeBase64Url } from '../../../shared/core/base64.js';
import { signGroupPolicy, type GroupPolicy } from '../../../shared/core/group-policy.js';
import { openSealedCode, sealCode, ed25519SecretFromPkcs8 } from '../../../shared/crypto/sealed-code.js';
import { helpOfferBytes, OFFER_FRESH_SECONDS } from '../../../shared/core/help-offer.js';
import type { OfferDeviceRequest } from '../../../shared/core/messages.js';
import { signTechnicianBinding, technicianKeyNonce } from '../../../shared/technician/proof.js';
import { createTestIssuer, TEST_ISSUER, type TestIssuer } from '../../support/test-issuer.js';

const operatorSecret = ed25519.utils.randomSecretKey();
const operatorKey = encodeBase64Url(ed25519.getPublicKey(operatorSecret));
/** The record as the relay lists it, with the operator's approval. */
const approved = (record: ApprovedDevice, secret = operatorSecret) => ({ ...record, approval: signDeviceApproval(secret, record, 1_800_000_000) });
/** The technician's trust: the operator key's fingerprint pinned, and device keys pinned at offers. */
const trust = (pins: DeviceKeyPins = memoryDeviceKeyPins()) => ({ operatorKey: operatorKeyFingerprint(operatorKey), pins });
const policy: GroupPolicy = {
  group: 'Finance laptops',
  issuedAt: 1_800_000_000,
  rules: [
    { technicianGroup: 'Service desk', level: 'control', consent: 'ask' },
    { technicianGroup: 'Auditors', level: 'view', consent: 'notice' },
  ],
  technicianIssuer: TEST_ISSUER,
};
const NOW = 1_800_000_100_000;
const technician = { issuer: TEST_ISSUER.issuer, subject: 'ada', name: 'Ada Lovelace', email: 'ada@example.org', groups: ['Service desk'] };
let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await createTestIssuer();
});

/** A technician signed in at the test issuer, with the key its ID token is bound to. */
async function signedInTechnician(claims: Record<string, unknown> = {}) {
  const keys = await generateDeviceKeyPair();
  const idToken = await issuer.idToken(NOW, { groups: ['Service desk'], nonce: technicianKeyNonce(keys.publicKey), ...claims });
  return { idToken, ...keys };
}

/** What offerToDevice sends, played through a stand-in for the technician's relay client. */
async function offered(deviceKeys: { publicKey: string }, device: EnrolledDevice, reason = 'INC-42: printer', credentials?: Awaited<ReturnType<typeof signedInTechnician>>) {
  let sent: Omit<OfferDeviceRequest, 'action'> | undefined;
  const helpOffer = {
    code: 'ABCD-EFGH-JKLM',
    client: { session: { sessionId: 'session-1' }, offerDevice: async (request: Omit<OfferDeviceRequest, 'action'>) => ((sent = request), { deviceId: request.deviceId, name: 'PC' }) },
  } as unknown as HelpOffer;
  await offerToDevice(helpOffer, approved({ deviceId: device.deviceId, name: 'PC', group: device.group, publicKey: deviceKeys.publicKey }), reason, credentials ?? (await signedInTechnician()), trust(), NOW);
  return sent!;
}

async function setup() {
  const keys = await generateDeviceKeyPair();
  const device: EnrolledDevice = { deviceId: 'dev1234567890123456789', group: 'Finance laptops', operatorKey, privateKey: keys.privateKey };
  const { deviceId: _deviceId, ...request } = await offered(keys, device);
  const offer: DeviceOffer = { sessionId: 'session-1', technician, ...request, policy: signGroupPolicy(operatorSecret, policy) };
  return { keys, device, offer };
}

const checks = (overrides: Partial<OfferChecks> = {}): OfferChecks => ({ policyNotBefore: 0, now: NOW, issuerKeys: async () => issuer.keys, recentOffers: new Map(), ...overrides });

describe('the device’s verdict on an offer', () => {
  it('follows the signed rule for the technician’s groups and opens the code', async () => {
    const { device, offer } = await setup();
    const decision = await decideOffer(offer, device, checks());
    expect(decision).toMatchObject({ technician, rule: policy.rules[0], levels: ['view', 'control'], code: 'ABCD-EFGH-JKLM' });
    // The rule follows the groups in the verified token, whatever the relay says they are.
    const auditor = await setup();
    const { deviceId: _deviceId, ...request } = await offered(auditor.keys, auditor.device, 'INC-7', await signedInTechnician({ groups: ['Auditors'] }));
    const asAuditor = await decideOffer({ ...auditor.offer, ...request }, auditor.device, checks());
    expect(asAuditor).toMatchObject({ technician: { groups: ['Auditors'] }, rule: { consent: 'notice' }, levels: ['view'] });
    expect(organisationOf(technician)).toBe('login.example.org');
  });

  it('refuses a policy a relay flipped from ask to notice, a rolled-back one, and a technician no rule names', async () => {
    const { device, offer } = await setup();
    const flipped = structuredClone(offer.policy) as ReturnType<typeof signGroupPolicy>;
    flipped.policy.rules[0]!.consent = 'notice';
    await expect(decideOffer({ ...offer, policy: flipped }, device, checks())).rejects.toMatchObject({ name: 'OfferRefusedError', code: 'bad-policy-signature' });
    await expect(decideOffer(offer, device, checks({ policyNotBefore: policy.issuedAt + 1 }))).rejects.toMatchObject({ code: 'policy-rolled-back' });
    const sales = await setup();
    const { deviceId: _deviceId, ...request } = await offered(sales.keys, sales.device, 'INC-8', await signedInTechnician({ groups: ['Sales'] }));
    // The relay claiming other groups changes nothing: the token's decide.
    await expect(decideOffer({ ...sales.offer, ...request }, sales.device, checks())).rejects.toMatchObject({ code: 'not-permitted' });
  });

  it('cannot open a code sealed to another device or for another device id', async () => {
    const { device, offer } = await setup();
    const other = await generateDeviceKeyPair();
    // A code sealed to another key, re-signed as if by the technician (the relay cannot sign; this tests the seal alone).
    const credentials = await signedInTechnician();
    const sealedCode = await sealCode(other.publicKey, device.deviceId, 'X');
    const signature = await signTechnicianBinding(credentials.privateKey, helpOfferBytes({ deviceId: device.deviceId, sessionId: offer.sessionId, sealedCode, reason: offer.reason, offeredAt: offer.offeredAt }));
    const resealed = { ...offer, sealedCode, proof: { idToken: credentials.idToken, publicKey: credentials.publicKey, signature } };
    await expect(decideOffer(resealed, device, checks())).rejects.toMatchObject({ code: 'unopenable-code' });
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

  it('refuses what a relay can do to the technician’s proof: alter the identity, the reason, the code or the session; replay it; forge or move the token', async () => {
    const { device, offer } = await setup();
    const refused = (altered: DeviceOffer, code: string, overrides: Partial<OfferChecks> = {}) =>
      expect(decideOffer(altered, device, checks(overrides)), code).rejects.toMatchObject({ name: 'OfferRefusedError', code });
    await refused({ ...offer, technician: { ...technician, subject: 'grace', name: 'Grace Hopper' } }, 'technician-mismatch');
    await refused({ ...offer, reason: 'INC-42: and install this' }, 'token-key-mismatch');
    await refused({ ...offer, sessionId: 'session-2' }, 'token-key-mismatch');
    await refused({ ...offer, sealedCode: await sealCode((await generateDeviceKeyPair()).publicKey, device.deviceId, 'ABCD-EFGH-JKLM') }, 'token-key-mismatch');
    await refused({ ...offer, offeredAt: offer.offeredAt + 1 }, 'token-key-mismatch');
    // The token of another technician (its own nonce), or one the relay signed itself.
    const grace = await signedInTechnician({ sub: 'grace' });
    await refused({ ...offer, proof: { ...offer.proof, idToken: grace.idToken } }, 'token-key-mismatch');
    const [header, , signature] = offer.proof.idToken.split('.');
    const forgedClaims = Buffer.from(JSON.stringify({ iss: TEST_ISSUER.issuer, aud: TEST_ISSUER.clientId, sub: 'ada', groups: ['Service desk'], exp: NOW / 1000 + 60, iat: NOW / 1000 })).toString('base64url');
    await refused({ ...offer, proof: { ...offer.proof, idToken: `${header}.${forgedClaims}.${signature}` } }, 'token-bad-signature');
    const otherIssuer = await createTestIssuer();
    await refused(offer, 'token-bad-signature', { issuerKeys: async () => otherIssuer.keys });
    // The issuer is the one the operator signed into the policy: a policy naming another refuses this token.
    const elsewhere = signGroupPolicy(operatorSecret, { ...policy, technicianIssuer: { ...TEST_ISSUER, issuer: 'https://login.example.com/other' } });
    await refused({ ...offer, policy: elsewhere }, 'token-wrong-issuer');
    // A relay cannot put its own issuer into the operator's policy, nor strip it, nor hand over one another key signed.
    const relaysIssuer = structuredClone(offer.policy) as ReturnType<typeof signGroupPolicy>;
    relaysIssuer.policy.technicianIssuer = { ...TEST_ISSUER, issuer: 'https://relay.example.net/issuer' };
    await refused({ ...offer, policy: relaysIssuer }, 'bad-policy-signature');
    await refused({ ...offer, policy: signGroupPolicy(ed25519.utils.randomSecretKey(), policy) }, 'bad-policy-signature');
    const { technicianIssuer: _issuer, ...olderPolicy } = offer.policy.policy;
    await refused({ ...offer, policy: { policy: olderPolicy, signature: offer.policy.signature } as unknown as DeviceOffer['policy'] }, 'policy-without-issuer');
    // Replayed: once within the freshness window, and at all after it.
    const recentOffers = new Map<string, number>();
    await decideOffer(offer, device, checks({ recentOffers }));
    await refused(offer, 'replayed-offer', { recentOffers, now: NOW + 60_000 });
    await refused(offer, 'stale-offer', { now: NOW + (OFFER_FRESH_SECONDS + 1) * 1000 });
    await refused(offer, 'stale-offer', { now: NOW - (OFFER_FRESH_SECONDS + 1) * 1000 });
  });

  it('the technician offers only to a record the pinned operator key approved, then to the key pinned at the first offer; else nothing is sent', async () => {
    const keys = await generateDeviceKeyPair();
    const relayKeys = await generateDeviceKeyPair();
    const pins = memoryDeviceKeyPins();
    const sent: unknown[] = [];
    const helpOffer = { code: 'ABCD-EFGH-JKLM', client: { session: { sessionId: 'session-1' }, offerDevice: async (request: unknown) => (sent.push(request), { deviceId: 'd', name: 'PC' }) } } as unknown as HelpOffer;
    const credentials = await signedInTechnician();
    const record = { deviceId: 'dev1234567890123456789', name: 'PC', group: 'Finance laptops', publicKey: keys.publicKey };
    const refused = (device: Parameters<typeof offerToDevice>[1], name: string, code: string) =>
      expect(offerToDevice(helpOffer, device, 'INC-2', credentials, trust(pins), NOW)).rejects.toMatchObject({ name, code });
    // Before any offer: a key the relay swapped in (the operator's signature no longer holds), one it signed
    // itself, and a device without approval.
    await refused({ ...approved(record), publicKey: relayKeys.publicKey }, 'DeviceApprovalError', 'device-signature-invalid');
    await refused(approved({ ...record, publicKey: relayKeys.publicKey }, ed25519.utils.randomSecretKey()), 'DeviceApprovalError', 'operator-key-changed');
    await refused(record, 'DeviceApprovalError', 'device-not-approved');
    await refused({ ...approved(record), group: 'Kiosks' }, 'DeviceApprovalError', 'device-signature-invalid');
    expect(sent).toHaveLength(0);
    await offerToDevice(helpOffer, approved(record), 'INC-1', credentials, trust(pins), NOW);
    expect(pins.pinned(record.deviceId)).toEqual({ deviceId: record.deviceId, name: 'PC', publicKey: keys.publicKey });
    // The second check: the operator approved another key for the same device (by mistake, or on the relay's word).
    await expect(offerToDevice(helpOffer, approved({ ...record, publicKey: relayKeys.publicKey }), 'INC-2', credentials, trust(pins), NOW)).rejects.toMatchObject({
      name: 'DeviceKeyPinError',
      code: 'device-key-changed',
      message: expect.stringContaining('HAS CHANGED'),
    });
    expect(sent).toHaveLength(1);
  });
});
