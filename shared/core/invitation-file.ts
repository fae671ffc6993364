import * as v from 'valibot';
import { CodeFormatError, fileSecretBytes, fileSecretText, normalizeNameplate } from './codes.js';
import { normalizeRelayUrl, relayUrlsSchema } from './relay-url.js';
import { displayNameProblem, MAX_DISPLAY_NAME_CHARACTERS, type DisplayNameProblem } from './display-name.js';
import { CodedError } from './coded-error.js';
import { messageSchema } from './schemas.js';

// The `.assistinvite` file (docs/invitations.md): what the agent hands to the expert, by any means or
// by the relay's email. It holds the relay, the nameplate and the 128-bit file secret; never the
// password, which the user tells the expert separately.

export const INVITATION_FILE_EXTENSION = '.assistinvite';
export const MAX_INVITATION_FILE_BYTES = 8192;
export const INVITATION_FILE_FORMAT = 'assist-relay-invitation';
export const INVITATION_FILE_VERSION = 1;

export type InvitationFileErrorCode = 'malformed' | 'unsupported-version' | 'expired' | 'wrong-relay';

export class InvitationFileError extends CodedError<InvitationFileErrorCode> {
  override readonly name = 'InvitationFileError';
}

export interface ParseInvitationFileOptions {
  now: Date;
  /** The relay the caller uses: a file for another relay is refused. */
  relay?: Partial<RelayUrls>;
}

/** `2026-11-20 16:00 UTC`: one unambiguous way to tell people a time, whatever their locale. */
export function formatUtcTime(date: Date): string {
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

function malformed(message: string): never {
  throw new InvitationFileError('malformed', `not a valid invitation file: ${message}`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// The schema (valibot, as the wire messages in schemas.ts) of every field but format and version, which say
// whether this schema applies. A field's messages are whole sentences that name it: after "not a valid
// invitation file: ".

const RELAY = '"relay" must be an object with "webSocketUrl" and "httpUrl"';
const relayUrls = v.pipe(
  v.custom<Record<string, unknown>>(isObject, RELAY),
  relayUrlsSchema('relay.'),
);

/** Nameplate or secret in their canonical symbols; CodeFormatError says what is wrong with them. */
const symbols = (field: 'nameplate' | 'secret', canonical: (text: string) => string) =>
  v.pipe(
    v.string(`"${field}" must be a string`),
    v.rawTransform(({ dataset, addIssue, NEVER }) => {
      try {
        return canonical(dataset.value);
      } catch (error) {
        if (!(error instanceof CodeFormatError)) throw error;
        addIssue({ message: `"${field}": ${error.message}` });
        return NEVER;
      }
    }),
  );

const REQUESTER = '"requester" must be a non-empty name';
const requesterProblems: Record<DisplayNameProblem, (name: string) => string> = {
  empty: () => REQUESTER,
  'too-long': (name) => `"requester" is ${[...name].length} characters; at most ${MAX_DISPLAY_NAME_CHARACTERS} are allowed`,
  'unsafe-character': () => '"requester" must not contain control or text-direction characters',
};
/** The requester's name, by the display-name rule: control characters and marks that reorder text would let it disguise what the expert reads next to it. */
const requester = v.pipe(
  v.string(REQUESTER),
  v.check(
    (name) => displayNameProblem(name) === undefined,
    ({ input }) => requesterProblems[displayNameProblem(input)!](input),
  ),
);

const utcTimestamp = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?Z$/;
/** Date rolls 2026-02-30 over into March; reading the fields back catches such impossible dates. */
const isUtcTime = (text: string) => {
  const date = new Date(text);
  return utcTimestamp.test(text) && !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 19) === text.slice(0, 19);
};
const timestamp = (field: 'createdAt' | 'expiresAt') => {
  const message = `"${field}" must be a UTC time like 2026-11-20T16:00:00.000Z`;
  return v.pipe(v.string(message), v.check(isUtcTime, message), v.transform((text) => new Date(text)));
};

const invitationSchema = v.pipe(
  messageSchema({
    relay: relayUrls,
    nameplate: symbols('nameplate', normalizeNameplate),
    /** 26 symbols, 128 bits (shared/core/codes.ts). */
    secret: symbols('secret', (text) => fileSecretText(fileSecretBytes(text))),
    /** Who asks for help, as they gave their name. */
    requester,
    createdAt: timestamp('createdAt'),
    expiresAt: timestamp('expiresAt'),
  }),
  v.check((invitation) => invitation.createdAt.getTime() <= invitation.expiresAt.getTime(), '"expiresAt" is before "createdAt"'),
);

export type RelayUrls = v.InferOutput<typeof relayUrls>;
export type InvitationFile = v.InferOutput<typeof invitationSchema>;

/** Every field but format and version, checked and in canonical form. */
function readInvitation(fields: Record<string, unknown>): InvitationFile {
  const result = v.safeParse(invitationSchema, fields);
  if (!result.success) malformed(result.issues[0].message);
  return result.output;
}

function utf8Length(text: string): number {
  // A UTF-16 code unit never takes less than one UTF-8 byte: skip encoding text that is too long anyway.
  return text.length > MAX_INVITATION_FILE_BYTES ? text.length : new TextEncoder().encode(text).length;
}

function isoTime(date: Date): string | undefined {
  return date instanceof Date && !Number.isNaN(date.getTime()) ? date.toISOString() : undefined;
}

/** The file's text: pretty JSON in a fixed field order. Refuses anything parseInvitationFile would. */
export function createInvitationFile(invitation: InvitationFile): string {
  const checked = readInvitation({
    ...invitation,
    createdAt: isoTime(invitation.createdAt),
    expiresAt: isoTime(invitation.expiresAt),
  });
  const text = `${JSON.stringify(
    {
      format: INVITATION_FILE_FORMAT,
      version: INVITATION_FILE_VERSION,
      relay: { webSocketUrl: checked.relay.webSocketUrl, httpUrl: checked.relay.httpUrl },
      nameplate: checked.nameplate,
      secret: checked.secret,
      requester: checked.requester,
      createdAt: checked.createdAt.toISOString(),
      expiresAt: checked.expiresAt.toISOString(),
    },
    null,
    2,
  )}\n`;
  if (utf8Length(text) > MAX_INVITATION_FILE_BYTES) {
    malformed(`it would be larger than ${MAX_INVITATION_FILE_BYTES} bytes (are the relay URLs that long?)`);
  }
  return text;
}

/** The caller's relay URLs must be valid (RelayUrlError otherwise): they are configuration, not input. */
function checkSameRelay(invitation: InvitationFile, relay: Partial<RelayUrls>): void {
  const wrongRelay = (theirs: string, ours: string): never => {
    throw new InvitationFileError('wrong-relay', `this invitation is for the relay at ${theirs}, not ${ours}`);
  };
  // API Gateway stages live in the WebSocket URL's path, so the path must match too.
  if (relay.webSocketUrl !== undefined) {
    const ours = normalizeRelayUrl(relay.webSocketUrl, 'websocket');
    if (invitation.relay.webSocketUrl !== ours) wrongRelay(invitation.relay.webSocketUrl, ours);
  }
  if (relay.httpUrl !== undefined) {
    const theirs = new URL(invitation.relay.httpUrl).origin;
    const ours = new URL(normalizeRelayUrl(relay.httpUrl, 'http')).origin;
    if (theirs !== ours) wrongRelay(theirs, ours);
  }
}

/**
 * Reads an invitation file and checks it completely. Fields it does not know are ignored, so a
 * later version-1 writer may add some; another format or version is refused.
 */
export function parseInvitationFile(text: string, options: ParseInvitationFileOptions): InvitationFile {
  if (utf8Length(text) > MAX_INVITATION_FILE_BYTES) {
    malformed(`it is larger than ${MAX_INVITATION_FILE_BYTES} bytes`);
  }
  let parsed: unknown;
  try {
    // Editors on Windows may save a byte order mark in front of the JSON.
    parsed = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch {
    malformed('it is not JSON');
  }
  if (!isObject(parsed)) malformed('it is not a JSON object');
  if (typeof parsed.format !== 'string') malformed('it has no "format": it is not an Assist Relay invitation');
  if (parsed.format !== INVITATION_FILE_FORMAT) {
    // The file's own text stays out of the message: it could carry terminal escape sequences.
    throw new InvitationFileError(
      'unsupported-version',
      `this file's "format" is not "${INVITATION_FILE_FORMAT}": ` +
        'it is not an Assist Relay invitation, or a kind this program does not know',
    );
  }
  if (typeof parsed.version !== 'number') malformed('it has no "version" number');
  if (parsed.version !== INVITATION_FILE_VERSION) {
    throw new InvitationFileError(
      'unsupported-version',
      `this invitation is version ${parsed.version}; ` +
        `this program reads version ${INVITATION_FILE_VERSION} (update it to open this file)`,
    );
  }
  const invitation = readInvitation(parsed);
  if (options.now.getTime() >= invitation.expiresAt.getTime()) {
    throw new InvitationFileError(
      'expired',
      `this invitation expired at ${formatUtcTime(invitation.expiresAt)}; ask the person for a new one`,
    );
  }
  if (options.relay !== undefined) checkSameRelay(invitation, options.relay);
  return invitation;
}
