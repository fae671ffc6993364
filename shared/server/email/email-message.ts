import type { OutgoingEmail } from '../ports/mailer.js';
import { displayNameProblem, MAX_DISPLAY_NAME_CHARACTERS } from '../../core/display-name.js';
import { escapeHtml } from '../html.js';
import { CodedError } from '../../core/coded-error.js';

// The email that carries a file invitation to a technician (docs/invitations.md, "Email").
// It never contains the password: the person tells it separately.

export const INVITATION_FILE_NAME = 'invitation.assistinvite';
export const INVITATION_CONTENT_TYPE = 'application/vnd.assist-relay.invitation+json';

export type InvitationEmailErrorCode = 'invalid-address' | 'invalid-requester-name' | 'invalid-relay-url' | 'invalid-expiry';

export class InvitationEmailError extends CodedError<InvitationEmailErrorCode> {
  override readonly name = 'InvitationEmailError';
}

export interface InvitationEmailInput {
  to: string;
  /** Who asks for help, as the person typed it. */
  requesterName: string;
  /** `https://<relay>/join/<nameplate>#<secret>`: the fragment is meant to be in the email. */
  relayUrl: string;
  expiresAt: Date;
  invitationFileText: string;
  fileName?: string;
}

const localPart = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const domainLabel = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;

/**
 * Pragmatic check of an address SES can send to: ASCII (SES has no SMTPUTF8; Unicode domains come
 * as punycode), one "@", a dot-atom local part of at most 64 characters, a domain of letter-digit-
 * hyphen labels with a dot and a non-numeric top level, 254 characters in all.
 */
export function isValidEmailAddress(address: string): boolean {
  if (address.length > 254) return false;
  const at = address.indexOf('@');
  if (at < 0 || at !== address.lastIndexOf('@')) return false;
  const local = address.slice(0, at);
  const labels = address.slice(at + 1).split('.');
  return (
    local.length <= 64 &&
    localPart.test(local) &&
    labels.length >= 2 &&
    labels.every((label) => domainLabel.test(label)) &&
    !/^\d+$/.test(labels.at(-1)!)
  );
}

function requesterName(name: string): string {
  const trimmed = name.trim();
  if (displayNameProblem(trimmed)) {
    throw new InvitationEmailError(
      'invalid-requester-name',
      `the requester name must be 1 to ${MAX_DISPLAY_NAME_CHARACTERS} characters, without control or text-direction characters`,
    );
  }
  return trimmed;
}

function relayUrl(url: string): string {
  const valid =
    /^[\x21-\x7e]+$/.test(url) && URL.canParse(url) && ['https:', 'http:'].includes(new URL(url).protocol);
  if (!valid) throw new InvitationEmailError('invalid-relay-url', 'the relay URL must be an http(s) URL');
  return url;
}

const weekdays = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const months = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** "Friday 20 November 2026, 16:00 UTC": the same everywhere, whatever the reader's locale data. */
export function formatLongUtcTime(date: Date): string {
  const time = `${String(date.getUTCHours()).padStart(2, '0')}:${String(date.getUTCMinutes()).padStart(2, '0')}`;
  return `${weekdays[date.getUTCDay()]} ${date.getUTCDate()} ${months[date.getUTCMonth()]} ${date.getUTCFullYear()}, ${time} UTC`;
}

/** POSIX shell single quotes, so the command can be pasted whatever the URL holds. */
const shellQuote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

export function composeInvitationEmail(input: InvitationEmailInput): OutgoingEmail {
  if (!isValidEmailAddress(input.to)) {
    throw new InvitationEmailError('invalid-address', 'the email address is not valid');
  }
  if (Number.isNaN(input.expiresAt.getTime())) {
    throw new InvitationEmailError('invalid-expiry', 'the invitation expiry is not a valid date');
  }
  const name = requesterName(input.requesterName);
  const url = relayUrl(input.relayUrl);
  const until = formatLongUtcTime(input.expiresAt);
  // The relay's own command, as its documentation installs it: never an npm package name, which
  // anyone could publish.
  const command = `assist join ${shellQuote(url)}`;
  const fileName = input.fileName ?? INVITATION_FILE_NAME;

  const text = [
    'Hello,',
    '',
    `${name} asks for your help, through Assist Relay (remote assistance).`,
    `The invitation is valid until ${until}.`,
    '',
    'To join, open this link in a web browser:',
    url,
    '',
    'If you have this relay’s own assist command (its documentation says how to set it up), you can instead run in a terminal:',
    command,
    '',
    `The invitation is also attached to this email as a file (${fileName}).`,
    '',
    `You will need a password. ${name} will tell it to you separately, by phone or chat; it is never sent by email.`,
    '',
    `If you do not know ${name}, ignore this email.`,
    '',
    '-- ',
    'Assist Relay',
    '',
  ].join('\n');

  const [htmlName, htmlUrl, htmlCommand, htmlUntil, htmlFileName] = [name, url, command, until, fileName].map(escapeHtml);
  const html = [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head><meta charset="utf-8"><title>Assist Relay invitation</title></head>',
    '<body style="font-family: sans-serif; line-height: 1.5">',
    `<p>Hello,</p>`,
    `<p>${htmlName} asks for your help, through Assist Relay (remote assistance).<br>`,
    `The invitation is valid until <strong>${htmlUntil}</strong>.</p>`,
    `<p>To join, open this link in a web browser:<br><a href="${htmlUrl}">${htmlUrl}</a></p>`,
    `<p>If you have this relay’s own <code>assist</code> command (its documentation says how to set it up), you can instead run in a terminal:<br><code>${htmlCommand}</code></p>`,
    `<p>The invitation is also attached to this email as a file (${htmlFileName}).</p>`,
    `<p>You will need a password. ${htmlName} will tell it to you separately, by phone or chat; it is never sent by email.</p>`,
    `<p>If you do not know ${htmlName}, ignore this email.</p>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');

  return {
    to: input.to,
    subject: `${name} asks for your help (Assist Relay)`,
    text,
    html,
    attachments: [
      { filename: fileName, contentType: INVITATION_CONTENT_TYPE, content: new TextEncoder().encode(input.invitationFileText) },
    ],
  };
}
