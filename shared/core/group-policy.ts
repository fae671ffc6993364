// Permitted viewers (docs/help-desk.md): per device group, which technician groups may offer help, at which
// level, and whether the device asks its person first. The operator signs it with the operator's key
// (Ed25519, @noble/curves); the relay keeps it and enforces who may offer, and the device enforces consent
// and level from the signed text itself, with the operator's public key it pinned at enrolment, so a relay
// that rewrites "ask" into "notice" is refused by the device. Shared by the operator's command, the relay
// and the device's agent; pure, so it runs in Node and browsers alike.

import { ed25519 } from '@noble/curves/ed25519.js';
import { decodeBase64Url, encodeBase64Url } from './base64.js';
import { isStoredDisplayName } from './display-name.js';
import { approvalModes, consentRules, type ApprovalMode, type ConsentRule } from './messages.js';
import { CodedError } from './coded-error.js';

const POLICY_CONTEXT = 'assist-relay group policy v1';


export interface PermittedViewers {
  /** A group from the technicians' ID tokens (the issuer's group claim). */
  technicianGroup: string;
  /** The most the technician may be given: view only, or control too. */
  level: ApprovalMode;
  consent: ConsentRule;
}

export interface GroupPolicy {
  /** The device group it governs. */
  group: string;
  /** Epoch seconds when the operator signed it: a device refuses one older than the newest it has seen. */
  issuedAt: number;
  /** In order: the first rule naming one of the technician's groups applies. None: nobody may offer. */
  rules: PermittedViewers[];
}

export interface SignedGroupPolicy {
  policy: GroupPolicy;
  /** Ed25519 over groupPolicyBytes(policy), base64url. */
  signature: string;
}

export type GroupPolicyErrorCode = 'malformed-policy' | 'bad-policy-signature' | 'policy-for-another-group' | 'policy-rolled-back';

export class GroupPolicyError extends CodedError<GroupPolicyErrorCode> {
  override readonly name = 'GroupPolicyError';
}

/** The bytes the operator signs: one fixed layout, so a signature covers exactly the policy's meaning. */
export function groupPolicyBytes(policy: GroupPolicy): Uint8Array {
  const rules = policy.rules.map((rule) => [rule.technicianGroup, rule.level, rule.consent]);
  return new TextEncoder().encode(`${POLICY_CONTEXT}\n${JSON.stringify([policy.group, policy.issuedAt, rules])}`);
}

/** The operator's side: signs with the operator's 32-byte Ed25519 secret key. */
export function signGroupPolicy(secretKey: Uint8Array, policy: GroupPolicy): SignedGroupPolicy {
  return { policy, signature: encodeBase64Url(ed25519.sign(groupPolicyBytes(policy), secretKey)) };
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

function isRule(value: unknown): value is PermittedViewers {
  return (
    isRecord(value) &&
    isStoredDisplayName(value.technicianGroup) &&
    (approvalModes as readonly unknown[]).includes(value.level) &&
    (consentRules as readonly unknown[]).includes(value.consent)
  );
}

/** Whether `value` has a policy's shape (what arrives over the wire is checked before it is believed). */
export function isSignedGroupPolicy(value: unknown): value is SignedGroupPolicy {
  if (!isRecord(value) || typeof value.signature !== 'string' || !isRecord(value.policy)) return false;
  const { group, issuedAt, rules } = value.policy;
  return isStoredDisplayName(group) && Number.isSafeInteger(issuedAt) && Array.isArray(rules) && rules.every(isRule);
}

/**
 * The device's side: the policy, if the operator's key signed it, for the device's own group, and not older
 * than `notBefore` (the newest issuedAt the device has accepted); else a typed error naming what is wrong.
 */
export function verifyGroupPolicy(operatorPublicKey: string, signed: unknown, deviceGroup: string, notBefore = 0): GroupPolicy {
  if (!isSignedGroupPolicy(signed)) throw new GroupPolicyError('malformed-policy', 'the relay sent a group policy that is not one; the operator should sign it again (npm run operator -- policy set)');
  let valid = false;
  try {
    valid = ed25519.verify(decodeBase64Url(signed.signature), groupPolicyBytes(signed.policy), decodeBase64Url(operatorPublicKey));
  } catch {
    valid = false;
  }
  if (!valid) {
    throw new GroupPolicyError('bad-policy-signature', 'the group policy the relay sent is not signed by the operator key this device pinned at enrolment: it was changed after signing, or signed with another key');
  }
  if (signed.policy.group !== deviceGroup) {
    throw new GroupPolicyError('policy-for-another-group', `the relay sent the policy of "${signed.policy.group}", but this device is in "${deviceGroup}"`);
  }
  if (signed.policy.issuedAt < notBefore) {
    throw new GroupPolicyError('policy-rolled-back', 'the relay sent an older group policy than one this device already accepted');
  }
  return signed.policy;
}

/** The rule that applies to a technician in `technicianGroups`: the policy's first that names one of them. */
export function permittedViewersFor(policy: GroupPolicy, technicianGroups: readonly string[]): PermittedViewers | undefined {
  return policy.rules.find((rule) => technicianGroups.includes(rule.technicianGroup));
}
