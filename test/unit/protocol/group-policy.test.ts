// The signed group policy (permitted viewers): the device accepts only what the operator's pinned key signed,
// for its own group, not older than what it accepted before; anything else is a typed refusal. The operator's
// use case signs each new policy later than the last, and the --allow syntax parses or says what is wrong.
import { ed25519 } from '@noble/curves/ed25519.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemoryDeviceRegistry } from '../../../shared/server/adapters/memory-device-registry.js';
import { encodeBase64Url } from '../../../shared/core/base64.js';
import {
  GroupPolicyError,
  permittedViewersFor,
  signGroupPolicy,
  verifyGroupPolicy,
  type GroupPolicy,
} from '../../../shared/core/group-policy.js';
import { operatorKeyFingerprint } from '../../../shared/core/operator-key.js';
import { parsePermittedViewers, setGroupPolicy } from '../../../shared/server/use-cases/group-policies.js';

const secretKey = ed25519.utils.randomSecretKey();
const publicKey = encodeBase64Url(ed25519.getPublicKey(secretKey));
const otherSecret = ed25519.utils.randomSecretKey();

const policy: GroupPolicy = {
  group: 'Finance laptops',
  issuedAt: 1_800_000_000,
  rules: [
    { technicianGroup: 'Service desk', level: 'control', consent: 'ask' },
    { technicianGroup: 'Admins', level: 'control', consent: 'notice' },
    { technicianGroup: 'Auditors', level: 'view', consent: 'ask' },
  ],
  technicianIssuer: { issuer: 'https://login.example.org', clientId: 'assist-relay', groupClaim: 'groups' },
};

const refusal = (code: GroupPolicyError['code']) => expect.objectContaining({ name: 'GroupPolicyError', code });

describe('a signed group policy', () => {
  it('verifies with the operator key, for its group, and picks the first rule naming a technician group', () => {
    const accepted = verifyGroupPolicy(publicKey, signGroupPolicy(secretKey, policy), 'Finance laptops');
    expect(accepted).toEqual(policy);
    expect(permittedViewersFor(accepted, ['Everyone', 'Auditors', 'Admins'])).toEqual(policy.rules[1]);
    expect(permittedViewersFor(accepted, ['Auditors'])).toEqual(policy.rules[2]);
    expect(permittedViewersFor(accepted, ['Sales'])).toBeUndefined();
  });

  it('is refused once a relay flips a rule, its group or its date, or when another key signed it', () => {
    const signed = signGroupPolicy(secretKey, policy);
    const flipped = structuredClone(signed);
    flipped.policy.rules[0]!.consent = 'notice';
    expect(() => verifyGroupPolicy(publicKey, flipped, 'Finance laptops')).toThrow(refusal('bad-policy-signature'));
    const raised = structuredClone(signed);
    raised.policy.rules[2]!.level = 'control';
    expect(() => verifyGroupPolicy(publicKey, raised, 'Finance laptops')).toThrow(refusal('bad-policy-signature'));
    const added = structuredClone(signed);
    added.policy.rules.push({ technicianGroup: 'Everyone', level: 'control', consent: 'notice' });
    expect(() => verifyGroupPolicy(publicKey, added, 'Finance laptops')).toThrow(refusal('bad-policy-signature'));
    expect(() => verifyGroupPolicy(publicKey, signGroupPolicy(otherSecret, policy), 'Finance laptops')).toThrow(refusal('bad-policy-signature'));
    // The issuer is signed too: a relay naming its own issuer (or another client or group claim) is caught.
    for (const change of [{ issuer: 'https://relay.example.net' }, { clientId: 'relay' }, { groupClaim: 'roles' }]) {
      const moved = structuredClone(signed);
      moved.policy.technicianIssuer = { ...moved.policy.technicianIssuer, ...change };
      expect(() => verifyGroupPolicy(publicKey, moved, 'Finance laptops')).toThrow(refusal('bad-policy-signature'));
    }
  });

  it('is refused when it names no issuer (signed before policies named one), or a malformed one', () => {
    const { technicianIssuer: _issuer, ...older } = policy;
    expect(() => verifyGroupPolicy(publicKey, { policy: older, signature: 'AA' }, 'Finance laptops')).toThrow(refusal('policy-without-issuer'));
    const plainHttp = signGroupPolicy(secretKey, { ...policy, technicianIssuer: { ...policy.technicianIssuer, issuer: 'http://login.example.org' } });
    expect(() => verifyGroupPolicy(publicKey, plainHttp, 'Finance laptops')).toThrow(refusal('malformed-policy'));
  });

  it('is refused for another group, or when older than one the device accepted', () => {
    const signed = signGroupPolicy(secretKey, policy);
    expect(() => verifyGroupPolicy(publicKey, signed, 'Kiosks')).toThrow(refusal('policy-for-another-group'));
    expect(() => verifyGroupPolicy(publicKey, signed, 'Finance laptops', policy.issuedAt + 1)).toThrow(refusal('policy-rolled-back'));
    expect(verifyGroupPolicy(publicKey, signed, 'Finance laptops', policy.issuedAt)).toEqual(policy);
  });

  it('refuses anything that is not one with a typed error, never another exception', () => {
    fc.assert(
      fc.property(fc.oneof(fc.anything(), fc.record({ policy: fc.anything(), signature: fc.string() }), fc.constant({ policy, signature: '!!' })), (value) => {
        expect(() => verifyGroupPolicy(publicKey, value, 'Finance laptops')).toThrow(GroupPolicyError);
      }),
    );
  });

  it('fingerprints the operator key in 22 characters', () => {
    expect(operatorKeyFingerprint(publicKey)).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(operatorKeyFingerprint(publicKey)).not.toBe(operatorKeyFingerprint(encodeBase64Url(ed25519.getPublicKey(otherSecret))));
  });
});

describe('the operator', () => {
  it('writes permitted viewers as GROUP:LEVEL[:CONSENT], ask by default; mistakes say what is wrong', () => {
    expect(parsePermittedViewers('Service desk:control')).toEqual({ technicianGroup: 'Service desk', level: 'control', consent: 'ask' });
    expect(parsePermittedViewers('Tier 2: EMEA:view:notice')).toEqual({ technicianGroup: 'Tier 2: EMEA', level: 'view', consent: 'notice' });
    expect(() => parsePermittedViewers('Service desk')).toThrow(/say view or control/);
    expect(() => parsePermittedViewers('Service desk:admin')).toThrow(/say view or control/);
    expect(() => parsePermittedViewers(':control')).toThrow(/technician group is not/);
  });

  it('signs each policy later than the one before, refusing a group named twice', async () => {
    let now = 1_800_000_000;
    const registry = new MemoryDeviceRegistry(() => now);
    const rules = [parsePermittedViewers('Service desk:control')];
    const first = await setGroupPolicy(registry, secretKey, now, { group: 'Kiosks', rules, technicianIssuer: policy.technicianIssuer });
    const second = await setGroupPolicy(registry, secretKey, now, { group: 'Kiosks', rules: [] });
    expect(second.policy.issuedAt).toBe(first.policy.issuedAt + 1);
    expect(verifyGroupPolicy(publicKey, await registry.getGroupPolicy('Kiosks'), 'Kiosks', first.policy.issuedAt)).toEqual(second.policy);
    now += 10;
    await expect(setGroupPolicy(registry, secretKey, now, { group: 'Kiosks', rules: [...rules, ...rules] })).rejects.toMatchObject({ code: 'invalid-policy' });
    await expect(setGroupPolicy(registry, secretKey, now, { group: ' ', rules })).rejects.toMatchObject({ code: 'invalid-group' });
    expect((await registry.getGroupPolicy('Kiosks'))?.policy.rules).toEqual([]);
  });

  it('names the issuer it is given, else the one its own key signed for the group before; never one it did not sign', async () => {
    const registry = new MemoryDeviceRegistry(() => 1_800_000_000);
    const rules = [parsePermittedViewers('Service desk:control')];
    await expect(setGroupPolicy(registry, secretKey, 1_800_000_000, { group: 'Kiosks', rules })).rejects.toMatchObject({ code: 'no-technician-issuer', message: expect.stringContaining('--issuer URL --client-id ID') });
    expect(await registry.getGroupPolicy('Kiosks')).toBeUndefined();
    const first = await setGroupPolicy(registry, secretKey, 1_800_000_000, { group: 'Kiosks', rules, technicianIssuer: policy.technicianIssuer });
    const again = await setGroupPolicy(registry, secretKey, 1_800_000_000, { group: 'Kiosks', rules: [] });
    expect(again.policy.technicianIssuer).toEqual(policy.technicianIssuer);
    // A table whose policy a relay rewrote (its own issuer, the signature no longer holding) gives no issuer to sign.
    await registry.putGroupPolicy({ ...first, policy: { ...first.policy, issuedAt: again.policy.issuedAt + 1, technicianIssuer: { ...policy.technicianIssuer, issuer: 'https://relay.example.net' } } });
    await expect(setGroupPolicy(registry, secretKey, 1_800_000_000, { group: 'Kiosks', rules })).rejects.toMatchObject({ code: 'no-technician-issuer' });
    await registry.putGroupPolicy(signGroupPolicy(otherSecret, { ...policy, group: 'Kiosks', issuedAt: again.policy.issuedAt + 2 }));
    await expect(setGroupPolicy(registry, secretKey, 1_800_000_000, { group: 'Kiosks', rules })).rejects.toMatchObject({ code: 'no-technician-issuer' });
  });
});
