import { RelayError } from './relay-error.js';
import { isBase64 } from './base64.js';
import { DISPLAY_NAME_RULE, isStoredDisplayName, MAX_DISPLAY_NAME_CHARACTERS, unsafeTextCharacter } from './display-name.js';
import {
  clientActions,
  invitationKinds,
  MAX_FRAME_DATA_CHARS,
  offerAnswers,
  recordableEvents,
  type ClientAction,
  type ClientMessage,
} from './messages.js';

/** Bounds on the email request's fields; the use case validates their content. */
export const MAX_EMAIL_ADDRESS_CHARS = 254;
/**
 * The display-name rule's bound (shared/core/display-name.ts) in UTF-16 units, as string lengths count:
 * its characters may each take two (an emoji). The use case applies the whole rule.
 */
export const MAX_REQUESTER_NAME_CHARS = 2 * MAX_DISPLAY_NAME_CHARACTERS;
export const MAX_INVITATION_FILE_CHARS = 8192;

const sessionIdPattern = /^[A-Za-z0-9_-]{16,64}$/;
const tokenPattern = /^[A-Za-z0-9_-]{32,128}$/;
const nameplatePattern = /^[A-Za-z0-9]{1,32}$/;
/** An Ed25519 public key: 32 bytes, base64url without padding. */
const publicKeyPattern = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/;
/** 128-bit ids, base64url, never starting with `-` or `_` (newDeviceId). */
const deviceIdPattern = /^[A-Za-z0-9][A-Za-z0-9_-]{21}$/;
/** An Ed25519 signature: 64 bytes, base64url without padding. */
const signaturePattern = /^[A-Za-z0-9_-]{85}[AQgw]$/;
/** process.platform's values are short lower-case words. */
const osPattern = /^[a-z0-9]{1,16}$/;
/** A one-time X25519 key, a helper code and a tag, base64url: 60 to a few hundred characters. */
const sealedCodePattern = /^[A-Za-z0-9_-]{60,400}$/;
/** Why the help desk offers help (or a ticket number): shown to the person, kept in the audit. */
export const MAX_OFFER_REASON_CHARS = 200;

type JsonObject = Record<string, unknown>;

function invalid(message: string): never {
  throw new RelayError('invalid-request', message);
}

function requireString(body: JsonObject, field: string, pattern: RegExp, what: string): string {
  const value = body[field];
  if (typeof value !== 'string' || !pattern.test(value)) invalid(`"${field}" must be ${what}`);
  return value;
}

function parseFrameData(body: JsonObject): string {
  const data = body.data;
  if (typeof data !== 'string') invalid('"data" must be a base64 string');
  if (data.length > MAX_FRAME_DATA_CHARS) {
    throw new RelayError(
      'frame-too-large',
      `frame data is ${data.length} characters; the limit is ${MAX_FRAME_DATA_CHARS} (split larger payloads into frames)`,
    );
  }
  if (!isBase64(data)) invalid('"data" must be a base64 string');
  return data;
}

function parseOptionalSeconds(body: JsonObject, field: string): number | undefined {
  const seconds = body[field];
  if (seconds === undefined) return undefined;
  if (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds <= 0) {
    invalid(`"${field}" must be a positive whole number of seconds`);
  }
  return seconds;
}

function requireOneOf<T extends string>(body: JsonObject, field: string, allowed: readonly T[]): T {
  const value = body[field];
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    invalid(`"${field}" must be one of ${allowed.join(', ')}`);
  }
  return value as T;
}

function optionalOneOf<T extends string>(body: JsonObject, field: string, allowed: readonly T[]): T | undefined {
  return body[field] === undefined ? undefined : requireOneOf(body, field, allowed);
}

function requireBoundedString(body: JsonObject, field: string, maxChars: number): string {
  const value = body[field];
  if (typeof value !== 'string' || value.length === 0 || value.length > maxChars) {
    invalid(`"${field}" must be a string of 1 to ${maxChars} characters`);
  }
  return value;
}

/** Parses the JSON envelope and returns its action, so a route can be chosen before full validation. */
export function parseEnvelope(body: string | undefined | null): { action: string | undefined; fields: JsonObject } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body ?? '');
  } catch {
    throw new RelayError('malformed-json', 'the message is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new RelayError('malformed-json', 'the message must be a JSON object with an "action" field');
  }
  const fields = parsed as JsonObject;
  return { action: typeof fields.action === 'string' ? fields.action : undefined, fields };
}

function isClientAction(action: string | undefined): action is ClientAction {
  return (clientActions as readonly string[]).includes(action ?? '');
}

/** Validates one client message completely; every failure is a RelayError the caller is shown. */
export function parseClientMessage(body: string | undefined | null): ClientMessage {
  const { action, fields } = parseEnvelope(body);
  if (!isClientAction(action)) {
    throw new RelayError(
      'unknown-action',
      `unknown action ${JSON.stringify(action ?? null)}; expected one of ${clientActions.join(', ')}`,
    );
  }
  switch (action) {
    case 'createSession':
      return {
        action,
        kind: optionalOneOf(fields, 'kind', invitationKinds),
        invitationTtlSeconds: parseOptionalSeconds(fields, 'invitationTtlSeconds'),
        sessionTtlSeconds: parseOptionalSeconds(fields, 'sessionTtlSeconds'),
      };
    case 'joinSession':
      // Nameplates are case-insensitive for people; the relay stores them upper-case.
      return {
        action,
        nameplate: requireString(fields, 'nameplate', nameplatePattern, 'an invitation nameplate').toUpperCase(),
        expectedKind: optionalOneOf(fields, 'expectedKind', invitationKinds),
      };
    case 'resumeSession':
      return {
        action,
        sessionId: requireString(fields, 'sessionId', sessionIdPattern, 'a session id'),
        resumeToken: requireString(fields, 'resumeToken', tokenPattern, 'a resume token'),
      };
    case 'frame':
      return { action, data: parseFrameData(fields) };
    case 'approveSession':
      return { action, mode: requireOneOf(fields, 'mode', ['view', 'control'] as const) };
    case 'recordEvent':
      return { action, event: requireOneOf(fields, 'event', recordableEvents) };
    case 'extendSession': {
      const seconds = parseOptionalSeconds(fields, 'seconds');
      if (seconds === undefined) invalid('"seconds" must be a positive whole number of seconds');
      return { action, seconds };
    }
    case 'emailInvitation':
      return {
        action,
        to: requireBoundedString(fields, 'to', MAX_EMAIL_ADDRESS_CHARS),
        requesterName: requireBoundedString(fields, 'requesterName', MAX_REQUESTER_NAME_CHARS),
        invitation: requireBoundedString(fields, 'invitation', MAX_INVITATION_FILE_CHARS),
      };
    case 'enrolDevice': {
      const name = fields.name;
      if (!isStoredDisplayName(name)) invalid(`"name" is not a device name: it must be ${DISPLAY_NAME_RULE}`);
      return {
        action,
        token: requireString(fields, 'token', tokenPattern, 'an enrolment token'),
        publicKey: requireString(fields, 'publicKey', publicKeyPattern, 'an Ed25519 public key (32 bytes, base64url)'),
        name,
        os: requireString(fields, 'os', osPattern, 'an operating system name such as linux, darwin or win32'),
      };
    }
    case 'signInDevice':
      return {
        action,
        deviceId: requireString(fields, 'deviceId', deviceIdPattern, 'a device id'),
        signature: requireString(fields, 'signature', signaturePattern, 'an Ed25519 signature (64 bytes, base64url)'),
      };
    case 'deviceHeartbeat':
      return { action, deviceId: requireString(fields, 'deviceId', deviceIdPattern, 'a device id') };
    case 'offerDevice': {
      const reason = fields.reason;
      if (typeof reason !== 'string' || reason.trim() === '' || reason.length > MAX_OFFER_REASON_CHARS || unsafeTextCharacter.test(reason)) {
        invalid(`"reason" must be the reason or a ticket number: 1 to ${MAX_OFFER_REASON_CHARS} characters, without control or text-direction characters`);
      }
      return {
        action,
        deviceId: requireString(fields, 'deviceId', deviceIdPattern, 'a device id'),
        reason,
        sealedCode: requireString(fields, 'sealedCode', sealedCodePattern, 'a sealed code (base64url)'),
      };
    }
    case 'answerOffer':
      return {
        action,
        deviceId: requireString(fields, 'deviceId', deviceIdPattern, 'a device id'),
        sessionId: requireString(fields, 'sessionId', sessionIdPattern, 'a session id'),
        answer: requireOneOf(fields, 'answer', offerAnswers),
      };
    case 'signInTechnician':
      return { action, ticket: requireString(fields, 'ticket', tokenPattern, 'a sign-in ticket (from the relay\'s /technician/ticket)') };
    case 'requestDeviceChallenge':
    case 'listOfferableDevices':
    case 'reportFailedAttempt':
    case 'listAudit':
      return { action };
    case 'endSession':
      return { action, reason: optionalOneOf(fields, 'reason', ['denied', 'idle-timeout'] as const) };
  }
}
