// Wire protocol between clients and the relay. Every WebSocket message is one JSON text message;
// API Gateway selects the route from `action` (route selection expression `$request.body.action`).
// Frame payloads are opaque bytes to the relay, carried as base64 so the text-only routes stay binary-safe.

import type { SignedGroupPolicy } from './group-policy.js';
import type { TechnicianIdentity } from './technician.js';

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

export type Role = 'agent' | 'expert';

/**
 * The most failed key confirmations any client lets an invitation survive, whatever the relay says
 * (docs/protocol.md §6): the creator's side takes the relay's limit when the invitation is made,
 * capped by this, and counts failures itself. A relay policy above it is refused.
 */
export const MAX_FAILED_ATTEMPTS_CEILING = 10;

export const clientActions = [
  'createSession',
  'joinSession',
  'resumeSession',
  'frame',
  'approveSession',
  'reportFailedAttempt',
  'recordEvent',
  'extendSession',
  'emailInvitation',
  'listAudit',
  'endSession',
  'enrolDevice',
  'requestDeviceChallenge',
  'signInDevice',
  'deviceHeartbeat',
  'listOfferableDevices',
  'offerDevice',
  'answerOffer',
  'signInTechnician',
] as const;
export type ClientAction = (typeof clientActions)[number];

/**
 * How an invitation reaches the other side (docs/invitations.md). The creator holds the secret:
 * the agent for `file` (also what is emailed) and `easy-connect`, the expert for `helper-code`.
 */
export const invitationKinds = ['file', 'easy-connect', 'helper-code'] as const;
export type InvitationKind = (typeof invitationKinds)[number];

export interface CreateSessionRequest {
  action: 'createSession';
  /** Default 'easy-connect'. */
  kind?: InvitationKind;
  /** How long the invitation stays open for a joiner; the relay caps it with its policy. */
  invitationTtlSeconds?: number;
  /** Hard lifetime of the session once approved; the relay caps it with its policy. */
  sessionTtlSeconds?: number;
}
export interface JoinSessionRequest {
  action: 'joinSession';
  nameplate: string;
  /**
   * The kind of invitation the joiner holds (an Easy Connect password and a helper code look alike).
   * Another kind is refused with `wrong-kind` before any seat is taken. Left out, nothing is checked.
   */
  expectedKind?: InvitationKind;
}
/** Agent only, once the user approved the expert inside the encrypted channel: lifts the pre-approval limits. */
export interface ApproveSessionRequest {
  action: 'approveSession';
  mode: ApprovalMode;
}
/** The invitation's creator: a key confirmation failed. The joiner is removed; the invitation burns after the policy's limit. */
export interface ReportFailedAttemptRequest {
  action: 'reportFailedAttempt';
}
/** Agent only: a lifecycle event decided inside the encrypted channel, for the audit log. */
export interface RecordEventRequest {
  action: 'recordEvent';
  event: RecordableEvent;
}
/**
 * Agent only, once approved: adds `seconds` to the session's hard lifetime, up to the operator's cap
 * (maxSessionTtlSeconds) counted from the approval. Audited; both sides are told (sessionExtended).
 */
export interface ExtendSessionRequest {
  action: 'extendSession';
  seconds: number;
}
/** Agent of a waiting `file` invitation: the relay emails the invitation (never the password). */
export interface EmailInvitationRequest {
  action: 'emailInvitation';
  /** The expert's address. */
  to: string;
  /** Who asks for help, as the email should say. */
  requesterName: string;
  /** The invitation file's text (docs/invitations.md); attached to the email. */
  invitation: string;
}
export interface ListAuditRequest {
  action: 'listAudit';
}
export interface ResumeSessionRequest {
  action: 'resumeSession';
  sessionId: string;
  resumeToken: string;
}
/**
 * A device enrols (docs/help-desk.md): it spends an enrolment token the operator made for a device group
 * and registers the public half of its long-term key pair, its name and its operating system.
 */
export interface EnrolDeviceRequest {
  action: 'enrolDevice';
  /** The enrolment token as the operator's command showed it; the relay keeps only its hash. */
  token: string;
  /** The device's Ed25519 public key, raw 32 bytes, base64url. */
  publicKey: string;
  name: string;
  /** What the device runs (Node's process.platform, e.g. linux, darwin, win32). */
  os: string;
}
/** An enrolled device's agent, first on a new connection: a challenge to sign (docs/help-desk.md). */
export interface RequestDeviceChallengeRequest {
  action: 'requestDeviceChallenge';
}
/** The agent proves it holds the device's key: an Ed25519 signature over deviceSignInMessage(deviceId, challenge). */
export interface SignInDeviceRequest {
  action: 'signInDevice';
  deviceId: string;
  /** base64url, 64 bytes. */
  signature: string;
}
/** A signed-in agent, well within the idle limit: keeps the connection and tells the relay the device is there. */
export interface DeviceHeartbeatRequest {
  action: 'deviceHeartbeat';
  deviceId: string;
}
/** A signed-in technician: the enrolled devices whose group's policy lets one of the technician's groups offer help. */
export interface ListOfferableDevicesRequest {
  action: 'listOfferableDevices';
}
/**
 * A signed-in technician, on the connection holding its waiting helper-code session (docs/help-desk.md): offers
 * help to a device. The relay checks the group policy, audits, and forwards the offer to the device's agent.
 */
export interface OfferDeviceRequest {
  action: 'offerDevice';
  deviceId: string;
  /** Why, or a ticket number: shown to the person and kept in the audit. */
  reason: string;
  /** The session's helper code sealed to the device's enrolled key (shared/crypto/sealed-code.ts): the relay cannot open it. */
  sealedCode: string;
}
/**
 * The device's agent, on its signed-in connection: what became of an offer. view/control: the person allowed it
 * (the agent then approves the session it joined); deny, no-answer, or the device's refusal of the offer
 * (a policy that does not verify, a technician no rule names, a code it cannot open): the relay ends the offer.
 */
export interface AnswerOfferRequest {
  action: 'answerOffer';
  deviceId: string;
  sessionId: string;
  answer: OfferAnswer;
}
export const offerAnswers = [
  'view',
  'control',
  'deny',
  'no-answer',
  'malformed-policy',
  'bad-policy-signature',
  'policy-for-another-group',
  'policy-rolled-back',
  'not-permitted',
  'unopenable-code',
] as const;
export type OfferAnswer = (typeof offerAnswers)[number];
/**
 * A technician signs this connection in (docs/technicians.md) with a ticket the relay's HTTPS endpoint minted
 * from their ID token a moment before: short-lived, single-use, and in the message, never in a URL.
 */
export interface SignInTechnicianRequest {
  action: 'signInTechnician';
  ticket: string;
}
export interface FrameRequest {
  action: 'frame';
  data: string;
}
export interface EndSessionRequest {
  action: 'endSession';
  /**
   * Agent only. Before approving: the user denied the expert (ends with 'denied'). Once approved:
   * nobody did anything for the idle limit (ends with 'idle-timeout'; the agent keeps that limit,
   * since the relay cannot see activity).
   */
  reason?: 'denied' | 'idle-timeout';
}
export type ClientMessage =
  | CreateSessionRequest
  | JoinSessionRequest
  | ResumeSessionRequest
  | FrameRequest
  | ApproveSessionRequest
  | ReportFailedAttemptRequest
  | RecordEventRequest
  | ExtendSessionRequest
  | EmailInvitationRequest
  | ListAuditRequest
  | EndSessionRequest
  | EnrolDeviceRequest
  | RequestDeviceChallengeRequest
  | SignInDeviceRequest
  | DeviceHeartbeatRequest
  | ListOfferableDevicesRequest
  | OfferDeviceRequest
  | AnswerOfferRequest
  | SignInTechnicianRequest;

export type ApprovalMode = 'view' | 'control';

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

/** One audit entry: what happened, when, and from where; never secrets, addresses' contents or frames. */
export interface AuditEvent {
  /** Epoch seconds. */
  at: number;
  event:
    | 'created'
    | 'emailed'
    | 'joined'
    | 'left'
    | 'confirmation-failed'
    | 'approved'
    /** The agent extended the session; detail: the new hard expiry, epoch seconds. */
    | 'extended'
    | RecordableEvent
    | 'ended'
    /** A technician offered help to a device: technician, deviceId, deviceName, reason. */
    | 'offered'
    /** The device's answer to the offer; detail: an OfferAnswer. */
    | 'offer-answered'
    /** A device enrolled (kept under its device id); detail: its group and the token's id. */
    | 'enrolled';
  role?: Role;
  sourceIp?: string;
  /** approved: the mode; ended: the reason. */
  detail?: string;
  /** created: the invitation's nameplate (relay-visible routing id, never the secret), so an operator can find it. */
  nameplate?: string;
  /** Help-desk offers: who offered (as the relay verified the sign-in), to which device, and why. */
  technician?: Pick<TechnicianIdentity, 'issuer' | 'subject' | 'name' | 'email'>;
  deviceId?: string;
  deviceName?: string;
  reason?: string;
}

/** Reasons a session ends, as both sides are told. */
export type EndReason =
  | 'ended-by-agent'
  | 'ended-by-expert'
  | 'expired'
  | 'idle-timeout'
  | 'peer-gone'
  /** Key confirmations failed too often: the invitation can no longer be used. */
  | 'burned'
  /** The creator withdrew the invitation before anyone joined. */
  | 'revoked'
  /** The agent refused the expert. */
  | 'denied'
  /** Told to a joiner only: its key confirmation failed, so the relay removed it (the invitation stays open). */
  | 'confirmation-failed';

export type ErrorCode =
  | 'malformed-json'
  | 'invalid-request'
  | 'unknown-action'
  | 'frame-too-large'
  | 'message-too-large'
  | 'not-in-session'
  | 'already-in-session'
  | 'session-not-found'
  | 'session-ended'
  | 'session-expired'
  | 'role-taken'
  | 'invalid-resume-token'
  | 'peer-unavailable'
  | 'rate-limited'
  /** The caller's role may not do this (e.g. the expert approving). */
  | 'wrong-role'
  /** Not possible in the session's current state (e.g. approving before anyone joined). */
  | 'invalid-state'
  /** Before approval frames are limited to MAX_PRE_APPROVAL_FRAME_DATA_CHARS. */
  | 'not-approved'
  /** The mail service refused or failed; the message says whether to retry. */
  | 'email-failed'
  /** A join's expectedKind is not the invitation's kind (e.g. a helper code given to `assist join`); `invitationKind` says what it is. */
  | 'wrong-kind'
  /** An enrolment token that is unknown, expired, used up or revoked: ask the operator for a new one. */
  | 'invalid-enrolment-token'
  /** No enrolled device has this id: never enrolled, or removed by the operator. Enrol again. */
  | 'device-not-enrolled'
  /** The signature does not verify with the device's enrolled key, or no challenge is open on this connection. */
  | 'device-sign-in-failed'
  /** This connection is no longer the device's: the device signed in on another one. */
  | 'device-signed-in-elsewhere'
  /** The technician's groups may not offer help to this device's group (the operator's policy). */
  | 'offer-not-permitted'
  /** No enrolled device has this id, or it is not signed in now. */
  | 'device-unavailable'
  /** A technician's sign-in ticket that is unknown, used already or expired: get a new one with the ID token. */
  | 'invalid-technician-ticket'
  /** The action is for technicians, and no technician is signed in on this connection (signInTechnician). */
  | 'technician-not-signed-in'
  | 'internal';

export interface SessionInfo {
  sessionId: string;
  role: Role;
  kind: InvitationKind;
  /** Epoch seconds until which the invitation can be joined; it closes earlier once approved, revoked or burned. */
  invitationExpiresAt: number;
  /** How many failed key confirmations burn the invitation. */
  maxFailedAttempts: number;
  /** Resume token for this participant: shown once, stored only as a hash by the relay. */
  resumeToken: string;
  /** Epoch seconds of the hard expiry (recomputed from approval: see sessionActive). */
  expiresAt: number;
  idleTimeoutSeconds: number;
  /** How long after a connection drops this participant may resume. */
  resumeGraceSeconds: number;
  peerConnected: boolean;
}

/** A device a technician may offer help to. */
export interface OfferableDevice {
  deviceId: string;
  name: string;
  group: string;
  os: string;
  /** Its enrolled Ed25519 key: the technician seals the code to it (and pins it). */
  publicKey: string;
  /** Signed in now. */
  online: boolean;
  lastSeenAt?: number;
}

export type ServerMessage =
  | ({ type: 'sessionCreated'; nameplate: string } & SessionInfo)
  | ({ type: 'sessionJoined'; nameplate: string } & SessionInfo)
  /**
   * `resumeToken` is a new one: tokens rotate on every resume, so a copied one is useless once its
   * successor has been used (the relay accepts the one before only until then, at most 5 minutes).
   */
  | ({ type: 'sessionResumed' } & SessionInfo)
  | { type: 'frame'; data: string }
  /** 'left': the joiner left before approval or was removed after a failed confirmation; the invitation is open again. */
  | { type: 'peer'; state: 'connected' | 'disconnected' | 'left' }
  /** To both sides when the agent approved: frames are no longer limited; the hard expiry counts from now. */
  | { type: 'sessionActive'; mode: ApprovalMode; expiresAt: number }
  | { type: 'attemptRecorded'; failedAttempts: number; maxFailedAttempts: number; burned: boolean }
  | { type: 'eventRecorded'; event: RecordableEvent }
  /**
   * To both sides when the agent extended the session: the new hard expiry, and the latest it can
   * ever be (approval + the operator's cap), both epoch seconds. Equal: no further extension.
   */
  | { type: 'sessionExtended'; expiresAt: number; maxExpiresAt: number }
  | { type: 'invitationEmailed'; to: string }
  | { type: 'auditLog'; sessionId: string; events: AuditEvent[] }
  | { type: 'ended'; reason: EndReason }
  /** The device is enrolled in `group` under `deviceId` (its name need not be unique). */
  /** `operatorKey`: the operator's Ed25519 public key, whose fingerprint ends the enrolment token; the device pins it. */
  | { type: 'deviceEnrolled'; deviceId: string; name: string; group: string; enrolledAt: number; operatorKey: string }
  /** A one-time challenge for this connection (base64url, 32 bytes), valid for a minute. */
  | { type: 'deviceChallenge'; challenge: string }
  /** The device is signed in on this connection; any earlier connection of it is closed. */
  | { type: 'deviceSignedIn'; deviceId: string; name: string; group: string }
  | { type: 'deviceHeartbeatAcknowledged' }
  | { type: 'offerableDevices'; devices: OfferableDevice[] }
  | { type: 'deviceOffered'; deviceId: string; name: string }
  /** To the device's agent: a technician offers help (checked by the device itself: sdk/help-offer.ts). */
  | { type: 'helpOffered'; sessionId: string; technician: TechnicianIdentity; reason: string; sealedCode: string; policy: SignedGroupPolicy }
  | { type: 'offerAnswered'; answer: OfferAnswer }
  /** The technician the ticket was minted for is signed in on this connection. */
  | { type: 'technicianSignedIn'; technician: TechnicianIdentity }
  | { type: 'error'; code: ErrorCode; message: string; requestAction?: string; endReason?: EndReason; invitationKind?: InvitationKind };
