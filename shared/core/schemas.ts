// The schemas (valibot) of what clients send: the relay parses every message with them (parse.ts), and
// messages.ts derives the protocol's types from them; server-messages.ts does the same for what the relay sends.
// A schema's messages are the end of a sentence that starts with the field's name.

import * as v from 'valibot';
import { isBase64 } from './base64.js';
import { typeableStart } from './tokens.js';
import { DISPLAY_NAME_RULE, isStoredDisplayName, unsafeTextCharacter } from './display-name.js';
import {
  approvalModes,
  invitationKinds,
  MAX_EMAIL_ADDRESS_CHARS,
  MAX_ID_TOKEN_CHARS,
  MAX_INVITATION_FILE_CHARS,
  MAX_OFFER_REASON_CHARS,
  offerAnswers,
  MAX_REQUESTER_NAME_CHARS,
  recordableEvents,
} from './messages.js';

// The fields' schemas.

/** A string matching `pattern`, described as `what` ("a session id"). */
export const matching = (pattern: RegExp, what: string) => v.pipe(v.string(`must be ${what}`), v.regex(pattern, `must be ${what}`));
export const oneOf = <const T extends readonly string[]>(options: T) => v.picklist(options, `must be one of ${options.join(', ')}`);
const SECONDS = 'must be a positive whole number of seconds';
const positiveSeconds = v.pipe(v.number(SECONDS), v.integer(SECONDS), v.minValue(1, SECONDS));
const boundedString = (maxChars: number) => {
  const message = `must be a string of 1 to ${maxChars} characters`;
  return v.pipe(v.string(message), v.minLength(1, message), v.maxLength(maxChars, message));
};

const sessionId = matching(/^[A-Za-z0-9_-]{16,64}$/, 'a session id');
const bearerToken = (what: string) => matching(/^[A-Za-z0-9_-]{32,128}$/, what);
/** Nameplates are case-insensitive for people; the relay stores them upper-case. */
const nameplate = v.pipe(matching(/^[A-Za-z0-9]{1,32}$/, 'an invitation nameplate'), v.toUpperCase());
/** An Ed25519 public key: 32 bytes, base64url without padding. */
const publicKey = matching(/^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/, 'an Ed25519 public key (32 bytes, base64url)');
/** 128-bit ids, base64url, which people type as an argument (newDeviceId), so they start as typeableStart says. */
export const deviceIdPattern = new RegExp(`${typeableStart.source}[A-Za-z0-9_-]{21}$`);
const deviceId = matching(deviceIdPattern, 'a device id');
/** An Ed25519 signature: 64 bytes, base64url without padding. */
const signature = matching(/^[A-Za-z0-9_-]{85}[AQgw]$/, 'an Ed25519 signature (64 bytes, base64url)');
/** process.platform's values are short lower-case words. */
const operatingSystem = matching(/^[a-z0-9]{1,16}$/, 'an operating system name such as linux, darwin or win32');
/** A display name as the relay keeps it (the whole rule: shared/core/display-name.ts). */
const deviceName = v.custom<string>(isStoredDisplayName, `is not a device name: it must be ${DISPLAY_NAME_RULE}`);
/** The reason (or ticket number) of an offer: shown to the person, so no control or text-direction characters. */
const REASON = `must be the reason or a ticket number: 1 to ${MAX_OFFER_REASON_CHARS} characters, without control or text-direction characters`;
const offerReason = v.pipe(
  v.string(REASON),
  v.check((reason) => reason.trim() !== '' && reason.length <= MAX_OFFER_REASON_CHARS && !unsafeTextCharacter.test(reason), REASON),
);
/** A one-time X25519 key, a helper code and a tag, base64url (shared/crypto/sealed-code.ts). */
const sealedCode = matching(/^[A-Za-z0-9_-]{60,400}$/, 'a sealed code (base64url)');
const ID_TOKEN = `must be an ID token (a signed JWT of at most ${MAX_ID_TOKEN_CHARS} characters)`;
/** A technician's ID token bound to its key, and that key's signature over the offer (shared/core/help-offer.ts). */
const technicianProof = messageSchema({
  idToken: v.pipe(
    v.string(ID_TOKEN),
    v.maxLength(MAX_ID_TOKEN_CHARS, ID_TOKEN),
    v.regex(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/, ID_TOKEN),
  ),
  publicKey,
  signature,
});
const EPOCH_SECONDS = 'must be a time in epoch seconds';
/** Base64 frame data; its size is checked first (parse.ts), as its own error. */
const frameData = v.pipe(v.string('must be a base64 string'), v.check(isBase64, 'must be a base64 string'));

/**
 * A message's schema: its fields, and for a missing one the message its own schema gives (valibot reports
 * a missing key on the object). Unknown fields are dropped.
 */
export function messageSchema<const E extends v.ObjectEntries>(entries: E) {
  return v.object(entries, (issue) => {
    const key = issue.path?.at(-1)?.key;
    const entry = typeof key === 'string' ? (entries[key] as { message?: unknown } | undefined) : undefined;
    return typeof entry?.message === 'string' ? entry.message : 'must be a JSON object';
  });
}

// Client → relay: one schema per action.

/** Each action's schema, whose `action` is its key: a route's message is defined here, once. */
const actionSchemas = <const S extends { [A in keyof S]: v.GenericSchema<unknown, { action: A }> }>(schemas: S) => schemas;

export const clientMessageSchemas = actionSchemas({
  createSession: messageSchema({
    action: v.literal('createSession'),
    /** Default 'easy-connect'. */
    kind: v.optional(oneOf(invitationKinds)),
    /** How long the invitation stays open for a joiner; the relay caps it with its policy. */
    invitationTtlSeconds: v.optional(positiveSeconds),
    /** Hard lifetime of the session once approved; the relay caps it with its policy. */
    sessionTtlSeconds: v.optional(positiveSeconds),
  }),
  joinSession: messageSchema({
    action: v.literal('joinSession'),
    nameplate,
    /**
     * The kind of invitation the joiner holds (an Easy Connect password and a helper code look alike).
     * Another kind is refused with `wrong-kind` before any seat is taken. Left out, nothing is checked.
     */
    expectedKind: v.optional(oneOf(invitationKinds)),
  }),
  resumeSession: messageSchema({ action: v.literal('resumeSession'), sessionId, resumeToken: bearerToken('a resume token') }),
  frame: messageSchema({ action: v.literal('frame'), data: frameData }),
  /** Agent only, once the user approved the expert inside the encrypted channel: lifts the pre-approval limits. */
  approveSession: messageSchema({ action: v.literal('approveSession'), mode: oneOf(approvalModes) }),
  /** The invitation's creator: a key confirmation failed. The joiner is removed; the invitation burns after the policy's limit. */
  reportFailedAttempt: messageSchema({ action: v.literal('reportFailedAttempt') }),
  /** Agent only: a lifecycle event decided inside the encrypted channel, for the audit log. */
  recordEvent: messageSchema({ action: v.literal('recordEvent'), event: oneOf(recordableEvents) }),
  /**
   * Agent only, once approved: adds `seconds` to the session's hard lifetime, up to the operator's cap
   * (maxSessionTtlSeconds) counted from the approval. Audited; both sides are told (sessionExtended).
   */
  extendSession: messageSchema({ action: v.literal('extendSession'), seconds: positiveSeconds }),
  /** Agent of a waiting `file` invitation: the relay emails the invitation (never the password). */
  emailInvitation: messageSchema({
    action: v.literal('emailInvitation'),
    /** The expert's address. */
    to: boundedString(MAX_EMAIL_ADDRESS_CHARS),
    /** Who asks for help, as the email should say. */
    requesterName: boundedString(MAX_REQUESTER_NAME_CHARS),
    /** The invitation file's text (docs/invitations.md); attached to the email. */
    invitation: boundedString(MAX_INVITATION_FILE_CHARS),
  }),
  listAudit: messageSchema({ action: v.literal('listAudit') }),
  endSession: messageSchema({
    action: v.literal('endSession'),
    /**
     * Agent only. Before approving: the user denied the expert (ends with 'denied'). Once approved:
     * nobody did anything for the idle limit (ends with 'idle-timeout'; the agent keeps that limit,
     * since the relay cannot see activity). Either side, once approved: the other side's messages
     * broke the assistance protocol (ends with 'protocol-violation'; before approval a joiner only leaves).
     */
    reason: v.optional(oneOf(['denied', 'idle-timeout', 'protocol-violation'])),
  }),
  /**
   * A device enrols (docs/help-desk.md): it spends an enrolment token the operator made for a device group
   * and registers the public half of its long-term key pair, its name and its operating system.
   */
  enrolDevice: messageSchema({
    action: v.literal('enrolDevice'),
    name: deviceName,
    /** The enrolment token as the operator's command showed it; the relay keeps only its hash. */
    token: bearerToken('an enrolment token'),
    /** The device's Ed25519 public key, raw 32 bytes, base64url. */
    publicKey,
    /** What the device runs (Node's process.platform, e.g. linux, darwin, win32). */
    os: operatingSystem,
  }),
  /** An enrolled device's agent, first on a new connection: a challenge to sign (docs/help-desk.md). */
  requestDeviceChallenge: messageSchema({ action: v.literal('requestDeviceChallenge') }),
  /** The agent proves it holds the device's key: an Ed25519 signature over deviceSignInMessage(deviceId, challenge). */
  signInDevice: messageSchema({ action: v.literal('signInDevice'), deviceId, signature }),
  /** A signed-in agent, well within the idle limit: keeps the connection and tells the relay the device is there. */
  deviceHeartbeat: messageSchema({ action: v.literal('deviceHeartbeat'), deviceId }),
  /**
   * A technician signs this connection in (docs/technicians.md) with a ticket the relay's HTTPS endpoint minted
   * from their ID token a moment before: short-lived, single-use, and in the message, never in a URL.
   */
  signInTechnician: messageSchema({ action: v.literal('signInTechnician'), ticket: bearerToken("a sign-in ticket (from the relay's /technician/ticket)") }),
  /** A signed-in technician: the enrolled devices whose group's policy lets one of the technician's groups offer help. */
  listOfferableDevices: messageSchema({ action: v.literal('listOfferableDevices') }),
  /**
   * A signed-in technician, on the connection holding its waiting helper-code session (docs/help-desk.md): offers
   * help to a device. The relay checks the group policy, audits, and forwards the offer to the device's agent.
   */
  offerDevice: messageSchema({
    action: v.literal('offerDevice'),
    deviceId,
    /** Why, or a ticket number: shown to the person and kept in the audit. */
    reason: offerReason,
    /** The session's helper code sealed to the device's enrolled key: the relay cannot open it. */
    sealedCode,
    /** When the technician made the offer (epoch seconds): a device refuses offers long past (replays). */
    offeredAt: v.pipe(v.number(EPOCH_SECONDS), v.integer(EPOCH_SECONDS), v.minValue(1, EPOCH_SECONDS)),
    /** Who offers, checked by the device itself: the ID token bound to the key that signed this offer. */
    proof: technicianProof,
  }),
  /**
   * The device's agent, on its signed-in connection: what became of an offer. view/control: the person allowed it
   * (the agent then approves the session it joined); anything else ends the offer (the relay ends the session).
   */
  answerOffer: messageSchema({ action: v.literal('answerOffer'), deviceId, sessionId, answer: oneOf(offerAnswers) }),
});

export type ClientAction = keyof typeof clientMessageSchemas;
/** Every action a client may send. */
export const clientActions = Object.keys(clientMessageSchemas) as ClientAction[];

export type ClientMessageOf<A extends ClientAction> = v.InferOutput<(typeof clientMessageSchemas)[A]>;

/** The first problem valibot found, as a sentence that names the field: `"nameplate" must be an invitation nameplate`. */
export function problemOf(issues: readonly v.BaseIssue<unknown>[]): string {
  const issue = issues[0]!;
  const key = issue.path?.map((item) => String(item.key)).join('.');
  return key ? `"${key}" ${issue.message}` : issue.message;
}
