// The device's side of a help-desk offer (docs/help-desk.md): before anything is shown to the person, the
// device checks the group policy the relay forwarded against the operator key it pinned at enrolment, picks
// the rule for the technician's groups itself, and opens the technician's code sealed to its own key. The
// relay decided who may offer; the device decides, from the operator's signature alone, whether to ask and
// how much to allow, so a relay that flips "ask" into "notice" (or view into control) is refused here.

import { ed25519SecretFromPkcs8, openSealedCode, sealCode } from '../shared/crypto/sealed-code.js';
import { GroupPolicyError, permittedViewersFor, verifyGroupPolicy, type GroupPolicy, type PermittedViewers } from '../shared/core/group-policy.js';
import type { ApprovalMode, OfferableDevice } from '../shared/core/messages.js';
import { CodedError } from '../shared/core/coded-error.js';
import type { TechnicianIdentity } from '../shared/core/technician.js';
import type { HelpOffer } from './assist.js';

/**
 * How long the person at the device has to answer, unless its agent was given another time; no answer is a
 * denial. The technician's console counts it down.
 */
export const DEFAULT_CONSENT_TIMEOUT_SECONDS = 60;

/** What the relay forwards to the device's agent (the `helpOffered` message without its type). */
export interface DeviceOffer {
  /** The technician's session: what the device joins, and how the relay names the offer. */
  sessionId: string;
  technician: TechnicianIdentity;
  reason: string;
  /** The technician's helper code, sealed to this device's key (shared/crypto/sealed-code.ts). */
  sealedCode: string;
  /** The group's policy as signed by the operator; checked, not believed. */
  policy: unknown;
}

export interface EnrolledDevice {
  deviceId: string;
  group: string;
  /** Pinned at enrolment. */
  operatorKey: string;
  /** PKCS #8, base64url. */
  privateKey: string;
}

export interface OfferDecision {
  policy: GroupPolicy;
  rule: PermittedViewers;
  /** The levels the person may be offered: view, and control when the rule allows it. */
  levels: readonly ApprovalMode[];
  /** The helper code to join with. */
  code: string;
}

export type OfferRefusal = GroupPolicyError['code'] | 'not-permitted' | 'unopenable-code';

export class OfferRefusedError extends CodedError<OfferRefusal> {
  override readonly name = 'OfferRefusedError';
}

/** The device's verdict on an offer; `notBefore` is the newest policy date it accepted (rollback). */
export async function decideOffer(offer: DeviceOffer, device: EnrolledDevice, notBefore: number): Promise<OfferDecision> {
  let policy: GroupPolicy;
  try {
    policy = verifyGroupPolicy(device.operatorKey, offer.policy, device.group, notBefore);
  } catch (error) {
    if (error instanceof GroupPolicyError) throw new OfferRefusedError(error.code, error.message);
    throw error;
  }
  const rule = permittedViewersFor(policy, offer.technician.groups);
  if (!rule) {
    throw new OfferRefusedError('not-permitted', `the operator's policy for "${device.group}" lets none of ${offer.technician.name}'s groups offer help to this device`);
  }
  let code: string;
  try {
    code = await openSealedCode(ed25519SecretFromPkcs8(device.privateKey), device.deviceId, offer.sealedCode);
  } catch (error) {
    throw new OfferRefusedError('unopenable-code', (error as Error).message);
  }
  return { policy, rule, levels: rule.level === 'control' ? ['view', 'control'] : ['view'], code };
}

/** How the technician's organisation is shown: the issuer's host name (e.g. login.example.org). */
export function organisationOf(technician: TechnicianIdentity): string {
  try {
    return new URL(technician.issuer).host;
  } catch {
    return technician.issuer;
  }
}

/** The technician's side: offers its waiting helper code to `device`, the code sealed to the device's enrolled key. */
export async function offerToDevice(offer: HelpOffer, device: Pick<OfferableDevice, 'deviceId' | 'publicKey'>, reason: string): Promise<{ deviceId: string; name: string }> {
  const sealedCode = await sealCode(device.publicKey, device.deviceId, offer.code);
  return offer.client.offerDevice({ deviceId: device.deviceId, reason, sealedCode });
}
