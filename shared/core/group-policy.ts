// Permitted viewers (docs/help-desk.md): per device group, which technician groups may offer help, at which
// level, whether the device asks its person first, and the issuer whose ID tokens name those technicians (so
// the device learns the issuer from the operator, never from the relay). The operator signs it with the operator's key
// (Ed25519, @noble/curves); the relay keeps it and enforces who may offer, and the device enforces consent
// and level from the signed text itself, with the operator's public key it pinned at enrolment, so a relay
// that rewrites "ask" into "notice" is refused by the device. Shared by the operator's command, the relay
// and the device's agent; pure, so it runs in Node and browsers alike.

import { ed25519 } from '@noble/curves/ed25519.js';
import { decodeBase64Url, encodeBase64Url } from './base64.js';
import { isStoredDisplayName } from './display-name.js';
import { approvalModes, consentRules, type ApprovalMode, type ConsentRule } from './messages.js';
import { CodedError } from './coded-error.js';
import { parseTechnicianIssuer } from './technician-issuer.js';
import type { TechnicianIssuer } from './technician.js';

/** v2 added the technicians' issuer; a v1 signature does not verify as v2, so no policy can drop it unnoticed. */
const POLICY_CONTEXT = 'assist-relay group policy v2';


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
  /** The only issuer whose ID tokens the device believes for this group (the operator's deployment configuration). */
  technicianIssuer: TechnicianIssuer;
}

export interface SignedGroupPolicy {
  policy: GroupPolicy;
  /** Ed25519 over groupPolicyBytes(policy), base64url. */
  signature: string;
}

export type GroupPolicyErrorCode = 'malformed-policy' | 'policy-without-issuer' | 'bad-policy-signature' | 'policy-for-another-group' | 'policy-rolled-back';

export class GroupPolicyError extends CodedError<GroupPolicyErrorCode> {
  override readonly name = 'GroupPolicyError';
}

/** The bytes the operator signs: one fixed layout, so a signature covers exactly the policy's meaning. */
export function groupPolicyBytes(policy: GroupPolicy): Uint8Array {
  const rules = policy.rules.map((rule) => [rule.technicianGroup, rule.level, rule.consent]);
  const { issuer, clientId, groupClaim } = policy.technicianIssuer;
  return new TextEncoder().encode(`${POLICY_CONTEXT}\n${JSON.stringify([policy.group, policy.issuedAt, rules, [issuer, clientId, groupClaim]])}`);
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

function isIssuer(value: unknown): value is TechnicianIssuer {
  if (!isRecord(value) || typeof value.issuer !== 'string' || typeof value.clientId !== 'string' || typeof value.groupClaim !== 'string') return false;
  try {
    parseTechnicianIssuer(value.issuer, value.clientId, value.groupClaim);
    return true;
  } catch {
    return false;
  }
}

/** A policy's shape without its issuer: what the operator signed before policies named one (v1). */
function isPolicyShape(value: unknown): value is { policy: Omit<GroupPolicy, 'technicianIssuer'> & { technicianIssuer?: unknown }; signature: string } {
  if (!isRecord(value) || typeof value.signature !== 'string' || !isRecord(value.policy)) return false;
  const { group, issuedAt, rules } = value.policy;
  return isStoredDisplayName(group) && Number.isSafeInteger(issuedAt) && Array.isArray(rules) && rules.every(isRule);
}

/** Whether `value` has a policy's shape (what arrives over the wire is checked before it is believed). */
export function isSignedGroupPolicy(value: unknown): value is SignedGroupPolicy {
  return isPolicyShape(value) && isIssuer(value.policy.technicianIssuer);
}

/** A policy signed before policies named the technicians' issuer (kept in a relay's table until the operator signs it again). */
export const namesNoIssuer = (signed: unknown): boolean => isPolicyShape(signed) && signed.policy.technicianIssuer === undefined;

/**
 * The device's side: the policy, if the operator's key signed it, for the device's own group, and not older
 * than `notBefore` (the newest issuedAt the device has accepted); else a typed error naming what is wrong.
 */
export function verifyGroupPolicy(operatorPublicKey: string, signed: unknown, deviceGroup: string, notBefore = 0): GroupPolicy {
  if (namesNoIssuer(signed)) {
    throw new GroupPolicyError('policy-without-issuer', 'the group policy names no technician sign-in issuer (it was signed by an older release), so this device cannot tell who offers; the operator signs it again: npm run operator -- policy set');
  }
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
