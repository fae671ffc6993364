// Wire protocol between clients and the relay. Every WebSocket message is one JSON text message;
// API Gateway selects the route from `action` (route selection expression `$request.body.action`).
// Frame payloads are opaque bytes to the relay, carried as base64 so the text-only routes stay binary-safe.
//
// This module holds the protocol's facts (limits, the names of actions, events, reasons and codes) and its
// types. The types are derived from the schemas that check the messages (schemas.ts, server-messages.ts), so what is checked
// and what the code is typed with cannot drift apart; parse.ts applies them at both ends.

import { MAX_DISPLAY_NAME_CHARACTERS } from './display-name.js';
import type { ClientAction, ClientMessageOf } from './schemas.js';
import type { auditEvent, offerableDevice, serverMessageSchema, sessionInfo } from './server-messages.js';
import type * as v from 'valibot';

export const PROTOCOL_VERSION = 1;

/** Largest base64 `data` string in one frame: keeps each WebSocket message within API Gateway's 32 KB frame. */
export const MAX_FRAME_DATA_CHARS = 32_000 - 64;
/**
 * Before the agent approves, frames carry only the handshake, the expert's hello and the approval
 * exchange; the relay refuses larger ones so nothing of the agent's can flow before consent.
 */
export const MAX_PRE_APPROVAL_FRAME_DATA_CHARS = 2048;
/** Largest raw payload per frame that fits MAX_FRAME_DATA_CHARS once base64-encoded. */
export const MAX_FRAME_BYTES = Math.floor(MAX_FRAME_DATA_CHARS / 4) * 3;

/** Bounds on the email request's fields; the use case validates their content. */
export const MAX_EMAIL_ADDRESS_CHARS = 254;
/**
 * The display-name rule's bound (shared/core/display-name.ts) in UTF-16 units, as string lengths count:
 * its characters may each take two (an emoji). The use case applies the whole rule.
 */
export const MAX_REQUESTER_NAME_CHARS = 2 * MAX_DISPLAY_NAME_CHARACTERS;
export const MAX_INVITATION_FILE_CHARS = 8192;

export const roles = ['agent', 'expert'] as const;
export type Role = (typeof roles)[number];

/**
 * The most failed key confirmations any client lets an invitation survive, whatever the relay says
 * (docs/protocol.md §6): the creator's side takes the relay's limit when the invitation is made,
 * capped by this, and counts failures itself. A relay policy above it is refused.
 */
export const MAX_FAILED_ATTEMPTS_CEILING = 10;

/**
 * How an invitation reaches the other side (docs/invitations.md). The creator holds the secret:
 * the agent for `file` (also what is emailed) and `easy-connect`, the expert for `helper-code`.
 */
export const invitationKinds = ['file', 'easy-connect', 'helper-code'] as const;
export type InvitationKind = (typeof invitationKinds)[number];

/** Who creates (and so holds the secret of) each kind of invitation; the other side joins it. */
export function creatorRoleOf(kind: InvitationKind): Role {
  return kind === 'helper-code' ? 'expert' : 'agent';
}

export const approvalModes = ['view', 'control'] as const;
export type ApprovalMode = (typeof approvalModes)[number];

/** Events only the agent's side can know (they happen inside the encrypted channel); recorded, never acted on. */
export const recordableEvents = [
  'control-granted',
  'control-revoked',
  'paused',
  'resumed',
  'screen-share-started',
  'screen-share-stopped',
  'desktop-share-started',
  'desktop-share-stopped',
  'clipboard-allowed',
  'clipboard-stopped',
] as const;
export type RecordableEvent = (typeof recordableEvents)[number];

// Client → relay: one schema per action.

export type { ClientAction } from './schemas.js';

export type ClientMessage = { [A in ClientAction]: ClientMessageOf<A> }[ClientAction];
export type CreateSessionRequest = ClientMessageOf<'createSession'>;
export type JoinSessionRequest = ClientMessageOf<'joinSession'>;
export type ResumeSessionRequest = ClientMessageOf<'resumeSession'>;
export type FrameRequest = ClientMessageOf<'frame'>;
export type ApproveSessionRequest = ClientMessageOf<'approveSession'>;
export type ReportFailedAttemptRequest = ClientMessageOf<'reportFailedAttempt'>;
export type RecordEventRequest = ClientMessageOf<'recordEvent'>;
export type ExtendSessionRequest = ClientMessageOf<'extendSession'>;
export type EmailInvitationRequest = ClientMessageOf<'emailInvitation'>;
export type ListAuditRequest = ClientMessageOf<'listAudit'>;
export type EndSessionRequest = ClientMessageOf<'endSession'>;
export type EnrolDeviceRequest = ClientMessageOf<'enrolDevice'>;
export type RequestDeviceChallengeRequest = ClientMessageOf<'requestDeviceChallenge'>;
export type SignInDeviceRequest = ClientMessageOf<'signInDevice'>;
export type DeviceHeartbeatRequest = ClientMessageOf<'deviceHeartbeat'>;
export type SignInTechnicianRequest = ClientMessageOf<'signInTechnician'>;
export type ListOfferableDevicesRequest = ClientMessageOf<'listOfferableDevices'>;
export type OfferDeviceRequest = ClientMessageOf<'offerDevice'>;
export type AnswerOfferRequest = ClientMessageOf<'answerOffer'>;

/** An offer's ID token (issuers with many groups in the token make long ones; a WebSocket message holds 32 KB). */
export const MAX_ID_TOKEN_CHARS = 12_000;

/** Why the help desk offers help (or a ticket number): shown to the person, kept in the audit. */
export const MAX_OFFER_REASON_CHARS = 200;

/**
 * What became of a help-desk offer, as the device's agent tells the relay (answerOffer): the person allowed
 * view or control, denied, did not answer in time, or the device refused the offer itself (a policy that does
 * not verify, a technician no rule names, a code it cannot open, a technician's proof that does not verify
 * against the issuer the signed policy names (the token-* codes of shared/technician/errors.ts), an offer the relay altered,
 * replayed or let go stale).
 */
export const offerAnswers = [
  'view',
  'control',
  'deny',
  'no-answer',
  'malformed-policy',
  'policy-without-issuer',
  'bad-policy-signature',
  'policy-for-another-group',
  'policy-rolled-back',
  'not-permitted',
  'unopenable-code',
  'token-malformed',
  'token-expired',
  'token-clock-skew',
  'token-wrong-issuer',
  'token-wrong-audience',
  'token-bad-signature',
  'token-missing-claim',
  'token-key-mismatch',
  'issuer-unreachable',
  'technician-mismatch',
  'stale-offer',
  'replayed-offer',
] as const;
export type OfferAnswer = (typeof offerAnswers)[number];

/**
 * A group policy's consent rule (group-policy.ts). `ask`: the person answers (allow view, allow control, deny)
 * before anything is shared; the default. `notice`: no question, but a notice stays visible on the device for
 * the whole session.
 */
export const consentRules = ['ask', 'notice'] as const;
export type ConsentRule = (typeof consentRules)[number];

export const auditEventNames = [
  'created',
  'emailed',
  'joined',
  'left',
  'confirmation-failed',
  'approved',
  /** The agent extended the session; detail: the new hard expiry, epoch seconds. */
  'extended',
  ...recordableEvents,
  'ended',
  /** A technician offered help to a device (technician, deviceId, deviceName, reason); detail not-permitted when refused. */
  'offered',
  /** The device's answer to the offer; detail: an OfferAnswer. */
  'offer-answered',
  /** A device enrolled (kept under its device id); detail: its group and the token's id. */
  'enrolled',
  /** A device's agent signed in (kept per device and day, device-sign-in.ts); detail: its group. */
  'device-signed-in',
  /** The relay refused a device's sign-in; detail: not-enrolled (removed, or never enrolled) or wrong-key. */
  'device-sign-in-refused',
] as const;

/** Reasons a session ends, as both sides are told. */
export const endReasons = [
  'ended-by-agent',
  'ended-by-expert',
  'expired',
  'idle-timeout',
  'peer-gone',
  /** Key confirmations failed too often: the invitation can no longer be used. */
  'burned',
  /** The creator withdrew the invitation before anyone joined. */
  'revoked',
  /** The agent refused the expert. */
  'denied',
  /** Told to a joiner only: its key confirmation failed, so the relay removed it (the invitation stays open). */
  'confirmation-failed',
  /** One side's messages broke the assistance protocol (a bug or another program): the side that saw it ended it. */
  'protocol-violation',
] as const;
export type EndReason = (typeof endReasons)[number];

/** Ends a client sees without the relay saying so. */
export const localEndReasons = [
  /** close() was called. */
  'closed',
  /** Every reconnect attempt failed. */
  'connection-lost',
  /** The relay refused to resume (token, session ended or expired). */
  'resume-rejected',
  /** A frame failed to open (authentication) or a stream broke its protocol; the session was ended. */
  'stream-failed',
  /**
   * AssistSession only (never the client): the joiner left because the end-to-end handshake failed
   * before anything was shared; the end's `error` (a SecureSessionError) says why.
   */
  'handshake-failed',
] as const;
export type LocalEndReason = (typeof localEndReasons)[number];

export const errorCodes = [
  'malformed-json',
  'invalid-request',
  'unknown-action',
  'frame-too-large',
  'message-too-large',
  'not-in-session',
  'already-in-session',
  'session-not-found',
  'session-ended',
  'session-expired',
  'role-taken',
  'invalid-resume-token',
  'peer-unavailable',
  'rate-limited',
  /** The caller's role may not do this (e.g. the expert approving). */
  'wrong-role',
  /** Not possible in the session's current state (e.g. approving before anyone joined). */
  'invalid-state',
  /** Before approval frames are limited to MAX_PRE_APPROVAL_FRAME_DATA_CHARS. */
  'not-approved',
  /** The mail service refused or failed; the message says whether to retry. */
  'email-failed',
  /** A join's expectedKind is not the invitation's kind (e.g. a helper code given to `assist join`); `invitationKind` says what it is. */
  'wrong-kind',
  /** An enrolment token that is unknown, expired, used up or revoked: ask the operator for a new one. */
  'invalid-enrolment-token',
  /** No enrolled device has this id: never enrolled, or removed by the operator. Enrol again. */
  'device-not-enrolled',
  /** The signature does not verify with the device's enrolled key, or no challenge is open on this connection. */
  'device-sign-in-failed',
  /** This connection is no longer the device's: the device signed in on another one. */
  'device-signed-in-elsewhere',
  /** A technician's sign-in ticket that is unknown, used already or expired: get a new one with the ID token. */
  'invalid-technician-ticket',
  /** The action is for technicians, and no technician is signed in on this connection (signInTechnician). */
  'technician-not-signed-in',
  /** The technician's groups may not offer help to this device's group (the operator's policy), or there is no such device. */
  'offer-not-permitted',
  /** The device is not connected to the relay now. */
  'device-unavailable',
  /** The operator has not approved the device yet (npm run operator -- device approve): no offers to it. */
  'device-not-approved',
  'internal',
] as const;
export type ErrorCode = (typeof errorCodes)[number];

/** One audit entry: what happened, when, and from where; never secrets, addresses' contents or frames. */
export type AuditEvent = v.InferOutput<typeof auditEvent>;
export type SessionInfo = v.InferOutput<v.ObjectSchema<typeof sessionInfo, undefined>>;
export type ServerMessage = v.InferOutput<typeof serverMessageSchema>;
/** A device a technician may offer help to (listOfferableDevices). */
export type OfferableDevice = v.InferOutput<typeof offerableDevice>;
