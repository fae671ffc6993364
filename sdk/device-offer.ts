// Both sides of a help-desk offer (docs/help-desk.md, docs/protocol.md "Help-desk offers"). The technician pins
// the device's key, seals its helper code to it and signs the offer with the key its ID token is bound to. The
// device, before anything is shown to the person, checks the group policy against the operator key it pinned
// at enrolment, verifies that ID token against the issuer the policy names (keys fetched from the issuer, not
// the relay) and the signature over what it received, picks the rule for the verified technician's groups
// itself, and opens the code with its own key. So a relay can neither invent or alter an offer, nor flip "ask" into
// "notice" (or view into control), nor read the code.

import type { JWTVerifyGetKey } from 'jose';
import { ed25519SecretFromPkcs8, openSealedCode, sealCode } from '../shared/crypto/sealed-code.js';
import { GroupPolicyError, permittedViewersFor, verifyGroupPolicy, type GroupPolicy, type PermittedViewers } from '../shared/core/group-policy.js';
import { helpOfferBytes, OFFER_FRESH_SECONDS } from '../shared/core/help-offer.js';
import type { ApprovalMode, OfferableDevice, ServerMessage } from '../shared/core/messages.js';
import { CodedError } from '../shared/core/coded-error.js';
import type { TechnicianIdentity } from '../shared/core/technician.js';
import { TechnicianTokenError, type TechnicianTokenErrorCode } from '../shared/technician/errors.js';
import { signTechnicianBinding, verifyTechnicianProof } from '../shared/technician/proof.js';
import type { HelpOffer } from './assist.js';
import { checkDeviceKey, type DeviceKeyPins } from './device-key-pins.js';
import { verifyDeviceApproval } from '../shared/core/device-approval.js';

/**
 * How long the person at the device has to answer, unless its agent was given another time; no answer is a
 * denial. The technician's console counts it down.
 */
export const DEFAULT_CONSENT_TIMEOUT_SECONDS = 60;

/** What the relay forwards to the device's agent (the `helpOffered` message without its type). */
export type DeviceOffer = Omit<Extract<ServerMessage, { type: 'helpOffered' }>, 'type'>;

export interface EnrolledDevice {
  deviceId: string;
  group: string;
  /** Pinned at enrolment (checked against the token's fingerprint): it signs the policies, which name the technicians' issuer. */
  operatorKey: string;
  /** PKCS #8, base64url. */
  privateKey: string;
}

/** What the device checks an offer against besides its enrolment. */
export interface OfferChecks {
  /** The newest group-policy date (epoch seconds) the device accepted: an older one is a relay rolling it back. */
  policyNotBefore: number;
  /** Epoch milliseconds. */
  now: number;
  /** The issuer's signing keys, fetched from the issuer itself (cachedIssuerKeys), never from the relay. */
  issuerKeys(issuer: string): Promise<JWTVerifyGetKey>;
  /** Proof signatures of offers taken in the last OFFER_FRESH_SECONDS (and when each may be forgotten, epoch ms): a replay is refused. */
  recentOffers: Map<string, number>;
}

export interface OfferDecision {
  /** Who offers, as the device verified the ID token itself. */
  technician: TechnicianIdentity;
  policy: GroupPolicy;
  rule: PermittedViewers;
  /** The levels the person may be offered: view, and control when the rule allows it. */
  levels: readonly ApprovalMode[];
  /** The helper code to join with. */
  code: string;
}

export type OfferRefusal =
  | GroupPolicyError['code']
  | TechnicianTokenErrorCode
  | 'not-permitted'
  | 'unopenable-code'
  | 'technician-mismatch'
  | 'stale-offer'
  | 'replayed-offer';

export class OfferRefusedError extends CodedError<OfferRefusal> {
  override readonly name = 'OfferRefusedError';
}

/** The technician, as the device verifies them from the proof alone; the relay's word only has to agree. */
async function verifiedTechnician(offer: DeviceOffer, device: EnrolledDevice, policy: GroupPolicy, checks: OfferChecks): Promise<TechnicianIdentity> {
  const issuer = policy.technicianIssuer;
  if (Math.abs(checks.now / 1000 - offer.offeredAt) > OFFER_FRESH_SECONDS) {
    throw new OfferRefusedError('stale-offer', `the offer was made at ${new Date(offer.offeredAt * 1000).toISOString()}, too long ago (or this clock is wrong): a replay, refused; check this machine's clock if offers keep being refused`);
  }
  const bound = helpOfferBytes({ deviceId: device.deviceId, sessionId: offer.sessionId, sealedCode: offer.sealedCode, reason: offer.reason, offeredAt: offer.offeredAt });
  let technician: TechnicianIdentity;
  try {
    technician = await verifyTechnicianProof(issuer, offer.proof, bound, await checks.issuerKeys(issuer.issuer), checks.now);
  } catch (error) {
    if (error instanceof TechnicianTokenError) throw new OfferRefusedError(error.code, error.message);
    throw error;
  }
  if (technician.issuer !== offer.technician.issuer || technician.subject !== offer.technician.subject) {
    throw new OfferRefusedError('technician-mismatch', `the relay says ${offer.technician.name} offers, but the technician's own proof is ${technician.name}'s: the relay altered the offer`);
  }
  for (const [signature, forgetAt] of checks.recentOffers) if (forgetAt <= checks.now) checks.recentOffers.delete(signature);
  if (checks.recentOffers.has(offer.proof.signature)) throw new OfferRefusedError('replayed-offer', `this offer from ${technician.name} was already made once: the relay sent it again`);
  checks.recentOffers.set(offer.proof.signature, checks.now + 2 * OFFER_FRESH_SECONDS * 1000);
  return technician;
}

/** The device's verdict on an offer, each part checked by the device itself (see the top of this file). */
export async function decideOffer(offer: DeviceOffer, device: EnrolledDevice, checks: OfferChecks): Promise<OfferDecision> {
  // The policy first: it names the issuer the technician's proof must come from.
  let policy: GroupPolicy;
  try {
    policy = verifyGroupPolicy(device.operatorKey, offer.policy, device.group, checks.policyNotBefore);
  } catch (error) {
    if (error instanceof GroupPolicyError) throw new OfferRefusedError(error.code, error.message);
    throw error;
  }
  const technician = await verifiedTechnician(offer, device, policy, checks);
  const rule = permittedViewersFor(policy, technician.groups);
  if (!rule) {
    throw new OfferRefusedError('not-permitted', `the operator's policy for "${device.group}" lets none of ${technician.name}'s groups offer help to this device`);
  }
  let code: string;
  try {
    code = await openSealedCode(ed25519SecretFromPkcs8(device.privateKey), device.deviceId, offer.sealedCode);
  } catch (error) {
    throw new OfferRefusedError('unopenable-code', (error as Error).message);
  }
  return { technician, policy, rule, levels: rule.level === 'control' ? ['view', 'control'] : ['view'], code };
}

/** How the technician's organisation is shown: the issuer's host name (e.g. login.example.org). */
export function organisationOf(technician: TechnicianIdentity): string {
  try {
    return new URL(technician.issuer).host;
  } catch {
    return technician.issuer;
  }
}

/** What a signed-in technician holds (assist login's technician.json, the console's tab): the ID token bound to the key. */
export interface TechnicianCredentials {
  idToken: string;
  /** Ed25519, raw, base64url. */
  publicKey: string;
  /** PKCS #8, base64url. */
  privateKey: string;
}

/** What a technician's client trusts about devices, from sources the relay cannot forge. */
export interface DeviceTrust {
  /** The fingerprint of the operator key that approves devices, pinned by the technician (assist login --operator-key, the console's confirmation). */
  operatorKey: string;
  /** Device keys seen at earlier offers: a second check, for a key the operator approved anew for the same device. */
  pins: DeviceKeyPins;
}

/**
 * The technician's side: offers its waiting helper code to `device`. The device's record (id, name, group, key)
 * must carry the approval of the operator key this technician pinned, and its key must be the one pinned for it
 * at an earlier offer (the first one seen is pinned); the code is sealed to that key, and the technician's key
 * signs the offer, so the device can check who offers and that the relay changed nothing.
 */
export async function offerToDevice(
  offer: HelpOffer,
  device: Pick<OfferableDevice, 'deviceId' | 'name' | 'group' | 'publicKey' | 'approval'>,
  reason: string,
  credentials: TechnicianCredentials,
  trust: DeviceTrust,
  now: number = Date.now(),
): Promise<{ deviceId: string; name: string }> {
  verifyDeviceApproval(trust.operatorKey, device);
  await checkDeviceKey(trust.pins, device);
  const sessionId = offer.client.session?.sessionId;
  if (!sessionId) throw new Error('the helper code has no session on the relay any more; make a new one (assist offer)');
  const sealedCode = await sealCode(device.publicKey, device.deviceId, offer.code);
  const offeredAt = Math.floor(now / 1000);
  const signature = await signTechnicianBinding(credentials.privateKey, helpOfferBytes({ deviceId: device.deviceId, sessionId, sealedCode, reason, offeredAt }));
  return offer.client.offerDevice({ deviceId: device.deviceId, reason, sealedCode, offeredAt, proof: { idToken: credentials.idToken, publicKey: credentials.publicKey, signature } });
}
