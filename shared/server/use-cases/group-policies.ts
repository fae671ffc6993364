// The operator's permitted viewers per device group (docs/help-desk.md): signed with the operator's key
// (shared/core/group-policy.ts) and kept in the relay's table, where the relay reads who may offer and
// from where it hands the signed text to the device, which checks it itself (and believes only technicians
// of the issuer it names).

import { DISPLAY_NAME_RULE, isStoredDisplayName } from '../../core/display-name.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { encodeBase64Url } from '../../core/base64.js';
import { signGroupPolicy, verifyGroupPolicy, type PermittedViewers, type SignedGroupPolicy } from '../../core/group-policy.js';
import type { TechnicianIssuer } from '../../core/technician.js';
import { approvalModes, consentRules, type ApprovalMode, type ConsentRule } from '../../core/messages.js';
import type { DeviceRegistry } from '../ports/device-registry.js';
import { OperatorError } from './enrolment.js';

export const PERMITTED_VIEWERS_FORMAT = 'TECHNICIAN GROUP:view|control[:ask|notice]';

/** `Helpdesk:control`, `Desk side:view:ask`, `Admins:control:notice` (the consent defaults to ask). */
export function parsePermittedViewers(text: string): PermittedViewers {
  const parts = text.split(':');
  const consent = (consentRules as readonly string[]).includes(parts.at(-1)!) && parts.length >= 3 ? (parts.pop() as ConsentRule) : 'ask';
  const level = parts.pop();
  const technicianGroup = parts.join(':');
  if (!(approvalModes as readonly (string | undefined)[]).includes(level)) {
    throw new OperatorError('invalid-policy', `"${text}" is not ${PERMITTED_VIEWERS_FORMAT}: say view or control after the group`);
  }
  if (!isStoredDisplayName(technicianGroup)) throw new OperatorError('invalid-policy', `in "${text}", the technician group is not ${DISPLAY_NAME_RULE}`);
  return { technicianGroup, level: level as ApprovalMode, consent };
}

/** The issuer of the policy the table holds for the group, if this operator key signed it (so the relay cannot have changed it). */
function issuerSignedBefore(operatorSecretKey: Uint8Array, before: SignedGroupPolicy | undefined): TechnicianIssuer | undefined {
  if (!before) return undefined;
  try {
    return verifyGroupPolicy(encodeBase64Url(ed25519.getPublicKey(operatorSecretKey)), before, before.policy.group).technicianIssuer;
  } catch {
    return undefined;
  }
}

/**
 * Signs and stores the group's policy, replacing the one before; an empty list lets nobody offer. The issuer is
 * the one given (the operator's deployment configuration), else the one this operator key signed for the group before.
 */
export async function setGroupPolicy(
  registry: DeviceRegistry,
  operatorSecretKey: Uint8Array,
  nowSeconds: number,
  request: { group: string; rules: PermittedViewers[]; technicianIssuer?: TechnicianIssuer },
): Promise<SignedGroupPolicy> {
  if (!isStoredDisplayName(request.group)) throw new OperatorError('invalid-group', `a device group's name is ${DISPLAY_NAME_RULE}`);
  const groups = request.rules.map((rule) => rule.technicianGroup);
  const repeated = groups.find((group, index) => groups.indexOf(group) !== index);
  if (repeated !== undefined) throw new OperatorError('invalid-policy', `"${repeated}" is named twice; give each technician group one level and consent rule`);
  // Issued later than any policy before it: a device refuses one older than the newest it accepted.
  const before = await registry.getGroupPolicy(request.group);
  const technicianIssuer = request.technicianIssuer ?? issuerSignedBefore(operatorSecretKey, before);
  if (!technicianIssuer) {
    throw new OperatorError(
      'no-technician-issuer',
      `say which issuer the technicians of "${request.group}" sign in with, as the relay is configured: --issuer URL --client-id ID [--group-claim NAME], or ASSIST_OIDC_ISSUER and ASSIST_OIDC_CLIENT_ID (devices believe only the issuer the policy names)`,
    );
  }
  const issuedAt = Math.max(nowSeconds, (before?.policy.issuedAt ?? 0) + 1);
  const signed = signGroupPolicy(operatorSecretKey, { group: request.group, issuedAt, rules: request.rules, technicianIssuer });
  await registry.putGroupPolicy(signed);
  return signed;
}

export async function listGroupPolicies(registry: DeviceRegistry): Promise<SignedGroupPolicy[]> {
  const policies: SignedGroupPolicy[] = [];
  for await (const signed of registry.listGroupPolicies()) policies.push(signed);
  return policies.sort((a, b) => a.policy.group.localeCompare(b.policy.group));
}
