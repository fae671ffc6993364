// What the relay sends, as schemas (valibot) the SDK checks every message with before it acts on it; messages.ts
// derives the types from them. Apart from schemas.ts (what clients send), so a Lambda bundle carries only those.

import * as v from 'valibot';
import { CodedError } from './coded-error.js';
import { approvalModes, auditEventNames, consentRules, endReasons, errorCodes, invitationKinds, offerAnswers, recordableEvents, roles, type ServerMessage } from './messages.js';
import { messageSchema, oneOf, problemOf } from './schemas.js';

/** Epoch seconds, durations and counts, as the relay sends them. */
const count = v.number('must be a number');
const text = v.string('must be a string');
const flag = v.boolean('must be true or false');

export const auditEvent = messageSchema({
  /** Epoch seconds. */
  at: count,
  event: oneOf(auditEventNames),
  role: v.optional(oneOf(roles)),
  sourceIp: v.optional(text),
  /** approved: the mode; ended: the reason. */
  detail: v.optional(text),
  /** created: the invitation's nameplate (relay-visible routing id, never the secret), so an operator can find it. */
  nameplate: v.optional(text),
  /** Help-desk offers: who offered (as the relay verified the sign-in), to which device, and why. */
  technician: v.optional(messageSchema({ issuer: text, subject: text, name: text, email: v.optional(text) })),
  deviceId: v.optional(text),
  deviceName: v.optional(text),
  reason: v.optional(text),
});

/** A technician as the relay verified them (technician.ts: TechnicianIdentity). */
const technicianIdentity = messageSchema({
  issuer: text,
  subject: text,
  name: text,
  email: v.optional(text),
  groups: v.pipe(v.array(text, 'must be a list of group names'), v.readonly()),
});

/** A group's policy as the operator signed it: the device checks it (group-policy.ts), so only its shape here. */
const signedGroupPolicy = messageSchema({
  policy: messageSchema({
    group: text,
    issuedAt: count,
    rules: v.array(messageSchema({ technicianGroup: text, level: oneOf(approvalModes), consent: oneOf(consentRules) }), 'must be a list of rules'),
    /** Optional here so a policy signed before policies named the issuer reaches the device, which refuses it with its own code. */
    technicianIssuer: v.optional(messageSchema({ issuer: text, clientId: text, groupClaim: text })),
  }),
  signature: text,
});

/** A device a technician may offer help to. */
export const offerableDevice = messageSchema({
  deviceId: text,
  name: text,
  group: text,
  os: text,
  /** Its enrolled Ed25519 key: the technician seals the code to it. */
  publicKey: text,
  /** The operator's signature over id, name, group and key (device-approval.ts); absent: awaiting approval. */
  approval: v.optional(messageSchema({ operatorKey: text, signature: text, approvedAt: count })),
  /** Signed in now. */
  online: flag,
  lastSeenAt: v.optional(count),
  /** What the operator's policy lets this technician do there (the first rule naming one of its groups; the device checks it again). */
  level: oneOf(approvalModes),
  consent: oneOf(consentRules),
});

export const sessionInfo = {
  sessionId: text,
  role: oneOf(roles),
  kind: oneOf(invitationKinds),
  /** Epoch seconds until which the invitation can be joined; it closes earlier once approved, revoked or burned. */
  invitationExpiresAt: count,
  /** How many failed key confirmations burn the invitation. */
  maxFailedAttempts: count,
  /** Resume token for this participant: shown once, stored only as a hash by the relay. */
  resumeToken: text,
  /** Epoch seconds of the hard expiry (recomputed from approval: see sessionActive). */
  expiresAt: count,
  idleTimeoutSeconds: count,
  /** How long after a connection drops this participant may resume. */
  resumeGraceSeconds: count,
  peerConnected: flag,
};

/** A reply that carries the session's details. */
const sessionReply = <const T extends string, const E extends v.ObjectEntries>(type: T, entries: E) =>
  messageSchema({ type: v.literal(type), ...entries, ...sessionInfo });

/** What the relay sends, by `type`. */
export const serverMessageSchema = v.variant(
  'type',
  [
    sessionReply('sessionCreated', { nameplate: text }),
    sessionReply('sessionJoined', { nameplate: text }),
    /**
     * `resumeToken` is a new one: tokens rotate on every resume, so a copied one is useless once its
     * successor has been used (the relay accepts the one before only until then, at most 5 minutes).
     */
    sessionReply('sessionResumed', {}),
    messageSchema({ type: v.literal('frame'), data: text }),
    /** 'left': the joiner left before approval or was removed after a failed confirmation; the invitation is open again. */
    messageSchema({ type: v.literal('peer'), state: oneOf(['connected', 'disconnected', 'left']) }),
    /** To both sides when the agent approved: frames are no longer limited; the hard expiry counts from now. */
    messageSchema({ type: v.literal('sessionActive'), mode: oneOf(approvalModes), expiresAt: count }),
    messageSchema({ type: v.literal('attemptRecorded'), failedAttempts: count, maxFailedAttempts: count, burned: flag }),
    messageSchema({ type: v.literal('eventRecorded'), event: oneOf(recordableEvents) }),
    /**
     * To both sides when the agent extended the session: the new hard expiry, and the latest it can
     * ever be (approval + the operator's cap), both epoch seconds. Equal: no further extension.
     */
    messageSchema({ type: v.literal('sessionExtended'), expiresAt: count, maxExpiresAt: count }),
    messageSchema({ type: v.literal('invitationEmailed'), to: text }),
    messageSchema({ type: v.literal('auditLog'), sessionId: text, events: v.array(auditEvent, 'must be a list of audit events') }),
    /** offerAnswer: a help-desk offer the device turned down (reason 'denied'), with the device's answer (offer-outcome.ts). */
    messageSchema({ type: v.literal('ended'), reason: oneOf(endReasons), offerAnswer: v.optional(oneOf(offerAnswers)) }),
    /**
     * The device is enrolled in `group` under `deviceId` (its name need not be unique). `operatorKey`: the
     * operator's Ed25519 public key, whose fingerprint ends the enrolment token; the device pins it.
     */
    messageSchema({ type: v.literal('deviceEnrolled'), deviceId: text, name: text, group: text, enrolledAt: count, operatorKey: text }),
    /** A one-time challenge for this connection (base64url, 32 bytes), valid for a minute. */
    messageSchema({ type: v.literal('deviceChallenge'), challenge: text }),
    /** The device is signed in on this connection; any earlier connection of it is closed. */
    messageSchema({ type: v.literal('deviceSignedIn'), deviceId: text, name: text, group: text }),
    messageSchema({ type: v.literal('deviceHeartbeatAcknowledged') }),
    /** The technician the ticket was minted for is signed in on this connection. */
    messageSchema({ type: v.literal('technicianSignedIn'), technician: technicianIdentity }),
    messageSchema({ type: v.literal('offerableDevices'), devices: v.array(offerableDevice, 'must be a list of devices') }),
    messageSchema({ type: v.literal('deviceOffered'), deviceId: text, name: text }),
    /** To the device's agent: a technician offers help (checked by the device itself: sdk/device-offer.ts). */
    messageSchema({
      type: v.literal('helpOffered'),
      sessionId: text,
      /** As the relay verified the sign-in; the device believes only the proof, and refuses an offer where the two differ. */
      technician: technicianIdentity,
      reason: text,
      sealedCode: text,
      offeredAt: count,
      proof: messageSchema({ idToken: text, publicKey: text, signature: text }),
      policy: signedGroupPolicy,
    }),
    messageSchema({ type: v.literal('offerAnswered'), answer: oneOf(offerAnswers) }),
    messageSchema({
      type: v.literal('error'),
      code: oneOf(errorCodes),
      message: text,
      requestAction: v.optional(text),
      endReason: v.optional(oneOf(endReasons)),
      invitationKind: v.optional(oneOf(invitationKinds)),
    }),
  ],
  'must name a message type the relay sends',
);

/** The relay sent something that is not one of its messages; the message says what was wrong with it. */
export class ProtocolError extends CodedError<'malformed-message'> {
  override readonly name = 'ProtocolError';

  constructor(message: string) {
    super('malformed-message', message);
  }
}

/** A message from the relay (its JSON, parsed), checked whole; anything else throws a ProtocolError saying what is wrong. */
export function parseServerMessage(value: unknown): ServerMessage {
  const result = v.safeParse(serverMessageSchema, value);
  if (!result.success) throw new ProtocolError(`the relay sent something that is not a relay message: ${problemOf(result.issues)}`);
  return result.output;
}
