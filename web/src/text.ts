// What the console says to people: every error in plain words (why a session ended: shared/core/end-texts.ts,
// which the CLI shows too). Kept apart from the DOM so it can be checked on its own.

import { CodedError } from '../../shared/core/coded-error.js';
import { CodeFormatError } from '../../shared/core/codes.js';
import { InvitationFileError } from '../../shared/core/invitation-file.js';
import { RelayUrlError } from '../../shared/core/relay-url.js';
import type { ApprovalMode, ConsentRule } from '../../shared/core/messages.js';
import { AssistSetupError, InvitationMixUpError, type InvitationShape } from '../../sdk/assist.js';
import { RelayError } from '../../sdk/connection.js';

const GONE = 'This invitation has expired, was used or withdrawn, or does not exist. Ask for a new one.';

/** A mix-up, by what was typed: what it is, and where it goes on this relay's pages. */
const mixUpTexts: Record<InvitationShape, string> = {
  'helper-code': 'This is a helper code: the person who needs help types it on this relay’s help page, under “A technician gave me a code”.',
  'easy-connect': 'This is an Easy Connect password: the technician types it on this relay’s start page. Here, type the code a technician read to you.',
  file: 'This is an invitation link or file, for the technician: they open the link in a browser and type its password.',
  password: 'This is the password of an invitation link: paste the link too, and this password under “Password for a link”.',
};

/** What an error was about, where its sentence names it: the device an offer went to. */
export interface ErrorSubject {
  device?: string;
}

/** Sentences by error code, whichever error class carries it; an error whose code is not here says its own message. */
const errorTexts: Partial<Record<string, (error: CodedError, subject: ErrorSubject) => string>> = {
  // Every way an invitation can be gone reads the same, so nothing is learnt about its state.
  'session-not-found': () => GONE,
  'session-ended': () => GONE,
  'session-expired': () => GONE,
  'role-taken': () => 'Someone else is connecting to this invitation right now. Wait a moment and try again.',
  'rate-limited': (error) => `Too many attempts. ${sentence(error.message)}`,
  'email-failed': (error) => `The email could not be sent. ${sentence(error.message)}`,
  'relay-unreachable': () => 'The relay cannot be reached. Check your connection and try again.',
  // The console is served by the relay, so it is as new as the relay: an older peer updates, a newer one needs a newer relay.
  'peer-outdated': () => 'The other side uses an older version of assist, which cannot connect to this one. Ask them to update it, then try again.',
  'peer-newer': () => 'The other side uses a newer version of assist than this relay’s console. The relay needs an update: ask whoever runs it.',
  // An offer's refusals: the relay's own sentences name the CLI.
  'offer-not-permitted': (_error, { device = 'this device' }) => `You may no longer offer help to ${device}: the operator changed the policy, or removed the device.`,
  'device-unavailable': (_error, { device = 'The device' }) => `${device} is not connected to the relay now (its agent is not running). Try again once it shows as online.`,
};

/** An error as a sentence for the reader: typed errors say what to do; anything else says what happened. */
export function errorText(error: unknown, subject: ErrorSubject = {}): string {
  if (error instanceof InvitationMixUpError) return mixUpTexts[error.given];
  if (error instanceof CodedError) {
    const text = errorTexts[error.code];
    if (text) return text(error, subject);
    if (error instanceof RelayError) return `The relay refused: ${sentence(error.message)}`;
    if (error instanceof AssistSetupError || error instanceof CodeFormatError || error instanceof RelayUrlError || error instanceof InvitationFileError) {
      return sentence(error.message);
    }
  }
  return `Something went wrong: ${sentence(error instanceof Error ? error.message : String(error))}`;
}

/** A message as a sentence: capital first letter, final full stop. */
export function sentence(text: string): string {
  const trimmed = text.trim();
  if (trimmed === '') return '';
  const capitalised = trimmed[0]!.toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(capitalised) ? capitalised : `${capitalised}.`;
}

/** Time left in words: `1 h 05 min`, `12 min`, `less than a minute`, `none`. */
export function timeLeft(seconds: number): string {
  if (seconds <= 0) return 'none';
  if (seconds < 60) return 'less than a minute';
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}

/** `0:52`, `1:05`: minutes and seconds, for a short countdown. */
export const minutesAndSeconds = (seconds: number) => `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;

const relative = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });

/** When a device was last heard of, relative to `nowMs`: `just now`, `5 minutes ago`, `yesterday`, `3 days ago`. */
export function lastSeenText(lastSeenAt: number, nowMs: number): string {
  const seconds = Math.max(0, nowMs / 1000 - lastSeenAt);
  if (seconds < 60) return 'just now';
  if (seconds < 3600) return relative.format(-Math.floor(seconds / 60), 'minute');
  if (seconds < 86_400) return relative.format(-Math.floor(seconds / 3600), 'hour');
  return relative.format(-Math.floor(seconds / 86_400), 'day');
}

/** What the operator's policy lets a technician do on a device, in words. */
export function allowedText(level: ApprovalMode, consent: ConsentRule): string {
  return `${level === 'control' ? 'View and control' : 'View only'}, ${consent === 'ask' ? 'if the person allows it' : 'with a notice on the screen (no question)'}`;
}

/** The six-digit verification code as people read it: `123 456`. */
export const spacedCode = (code: string) => code.replace(/^(\d{3})(\d{3})$/, '$1 $2');
