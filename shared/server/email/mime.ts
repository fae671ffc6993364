import type { OutgoingEmail } from '../ports/mailer.js';
import { decodeBase64Lenient, encodeBase64 } from '../../core/base64.js';
import { CodedError } from '../../core/coded-error.js';

// RFC 5322 messages with MIME (RFC 2045-2047, 2231) bodies: built for sending, parsed back for the
// local outbox and tests. Runtime-neutral (no Buffer) and pure: the caller supplies the date.

type EmailAttachment = OutgoingEmail['attachments'][number];

export interface Mailbox {
  address: string;
  /** Display name; any Unicode, sent as RFC 2047 encoded words when it is not plain ASCII. */
  name?: string;
}

export interface MimeMessageInput {
  from: Mailbox;
  to: string;
  subject: string;
  date: Date;
  text: string;
  html: string;
  attachments: EmailAttachment[];
}

export interface ParsedMessage {
  from: string;
  to: string;
  subject: string;
  date: string;
  text: string;
  html: string;
  attachments: EmailAttachment[];
}

/** A value that cannot go into a message header (line breaks, control characters, malformed address). */
export class MimeError extends CodedError<'invalid-header-value'> {
  override readonly name = 'MimeError';

  constructor(message: string) {
    super('invalid-header-value', message);
  }
}

const CRLF = '\r\n';
/** RFC 5322's recommended line length; every line built here stays within it. */
const MAX_LINE = 78;
/** Bytes per encoded word: 40 base64 characters, so "Subject: " plus one word fits a line. */
const ENCODED_WORD_BYTES = 30;
/** Largest filename accepted: its RFC 2231 form then stays well under the 998-character line limit. */
const MAX_FILENAME_BYTES = 255;
/**
 * "=_" can occur neither in quoted-printable (which always escapes "=") nor in base64, nor in the
 * headers written here, so these boundaries never collide with content and need no randomness.
 */
const MIXED_BOUNDARY = '=_assist-relay-mixed';
const ALTERNATIVE_BOUNDARY = '=_assist-relay-alternative';

const encoder = new TextEncoder();
const controlCharacter = /[\u0000-\u001f\u007f]/;
const printableAscii = /^[\x20-\x7e]*$/;
/** Enough to keep an address from breaking the header's syntax; email-message.ts validates strictly. */
const headerAddress = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~.]+@[A-Za-z0-9.-]+$/;
const mediaType = /^[A-Za-z0-9!#$&^_.+-]+\/[A-Za-z0-9!#$&^_.+-]+$/;

function assertHeaderText(value: string, what: string): void {
  if (controlCharacter.test(value)) throw new MimeError(`${what} must not contain line breaks or control characters`);
}

function assertAddress(address: string, what: string): void {
  if (!headerAddress.test(address)) throw new MimeError(`${what} is not a plain email address`);
}

/** RFC 2047 "B" encoded words of whole characters, each at most ENCODED_WORD_BYTES of UTF-8. */
function encodedWords(text: string): string[] {
  const words: number[][] = [];
  let chunk: number[] = [];
  for (const character of text) {
    const bytes = encoder.encode(character);
    if (chunk.length + bytes.length > ENCODED_WORD_BYTES) {
      words.push(chunk);
      chunk = [];
    }
    chunk.push(...bytes);
  }
  if (chunk.length > 0 || words.length === 0) words.push(chunk);
  return words.map((bytes) => `=?UTF-8?B?${encodeBase64(Uint8Array.from(bytes))}?=`);
}

/** Joins tokens with spaces, folding before a token that would push the line past MAX_LINE. */
function foldHeader(name: string, tokens: string[]): string {
  const lines: string[] = [];
  let line = `${name}:`;
  let lineHasToken = false;
  for (const token of tokens) {
    if (lineHasToken && line.length + 1 + token.length > MAX_LINE) {
      lines.push(line);
      line = '';
    }
    line += ` ${token}`;
    lineHasToken = true;
  }
  lines.push(line);
  return lines.join(CRLF);
}

/** Plain when it is short printable ASCII that cannot be mistaken for an encoded word; encoded otherwise. */
export function encodeUnstructuredHeader(name: string, value: string): string {
  assertHeaderText(value, name);
  const plain = printableAscii.test(value) && !value.includes('=?') && name.length + 2 + value.length <= MAX_LINE;
  return plain ? `${name}: ${value}` : foldHeader(name, encodedWords(value));
}

export function encodeMailboxHeader(name: string, mailbox: Mailbox): string {
  assertAddress(mailbox.address, name);
  const displayName = mailbox.name?.trim() ?? '';
  assertHeaderText(displayName, `${name} display name`);
  const address = `<${mailbox.address}>`;
  if (!displayName) return foldHeader(name, [address]);
  const quoted = `"${displayName.replace(/(["\\])/g, '\\$1')}"`;
  const plain = printableAscii.test(displayName) && !displayName.includes('=?') && quoted.length <= MAX_LINE - 2 - name.length;
  return foldHeader(name, [...(plain ? [quoted] : encodedWords(displayName)), address]);
}

/** "Name <address>" or a bare address, as operators write a sender in configuration. */
export function parseMailbox(text: string): Mailbox {
  const match = /^\s*(.*?)\s*<([^<>]*)>\s*$/.exec(text);
  const mailbox: Mailbox = match
    ? { address: match[2]!, name: match[1]!.replace(/^"(.*)"$/, '$1').replace(/\\(.)/g, '$1') }
    : { address: text.trim() };
  assertAddress(mailbox.address, 'sender');
  assertHeaderText(mailbox.name ?? '', 'sender display name');
  return mailbox;
}

/** RFC 5322 date-time in UTC, e.g. "Fri, 20 Nov 2026 10:00:00 +0000". */
function formatDate(date: Date): string {
  if (Number.isNaN(date.getTime())) throw new MimeError('date is not a valid date');
  return date.toUTCString().replace(/GMT$/, '+0000');
}

/** Quoted-printable (RFC 2045 6.7) of UTF-8 text, with CRLF line endings and soft breaks under 76 characters. */
export function encodeQuotedPrintable(text: string): string {
  return text
    .split(/\r\n|\r|\n/)
    .map((line) => {
      const bytes = encoder.encode(line);
      const output: string[] = [];
      let current = '';
      bytes.forEach((byte, index) => {
        const isLast = index === bytes.length - 1;
        // Whitespace at the end of a line would be stripped in transit, so it is escaped there.
        const literal = (byte >= 33 && byte <= 126 && byte !== 61) || ((byte === 32 || byte === 9) && !isLast);
        const piece = literal ? String.fromCharCode(byte) : `=${byte.toString(16).toUpperCase().padStart(2, '0')}`;
        // 76 characters per line including the soft break's "=" (except on the line's last piece).
        if (current.length + piece.length > (isLast ? 76 : 75)) {
          output.push(`${current}=`);
          current = '';
        }
        current += piece;
      });
      output.push(current);
      return output.join(CRLF);
    })
    .join(CRLF);
}

/** Bytes of text in which "%XX" stands for one byte and every other character for its UTF-8. */
function percentDecodedBytes(text: string): Uint8Array {
  const bytes: number[] = [];
  for (const [character, hex] of text.matchAll(/%([0-9A-Fa-f]{2})|[\s\S]/gu)) {
    bytes.push(...(hex ? [parseInt(hex, 16)] : encoder.encode(character)));
  }
  return Uint8Array.from(bytes);
}

function quotedPrintableBytes(text: string): Uint8Array {
  return percentDecodedBytes(
    text.replace(/=\r?\n/g, '').replace(/%/g, '%25').replace(/=([0-9A-Fa-f]{2})/g, '%$1'),
  );
}

function base64Lines(bytes: Uint8Array): string {
  return (encodeBase64(bytes).match(/.{1,76}/g) ?? []).join(CRLF);
}

/** RFC 2231 parameter: quoted when a plain ASCII token, percent-encoded UTF-8 otherwise. */
function fileNameParameter(parameter: string, filename: string): string {
  assertHeaderText(filename, 'attachment filename');
  const bytes = encoder.encode(filename);
  if (bytes.length === 0 || bytes.length > MAX_FILENAME_BYTES) {
    throw new MimeError(`attachment filename must be 1 to ${MAX_FILENAME_BYTES} bytes`);
  }
  if (/^[A-Za-z0-9._ -]+$/.test(filename)) return `${parameter}="${filename}"`;
  const encoded = Array.from(bytes, (byte) =>
    /[A-Za-z0-9._-]/.test(String.fromCharCode(byte)) ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`,
  ).join('');
  return `${parameter}*=UTF-8''${encoded}`;
}

function part(headers: string[], body: string): string {
  return [...headers, '', body].join(CRLF);
}

function multipart(boundary: string, parts: string[]): string {
  return [...parts.map((content) => `--${boundary}${CRLF}${content}`), `--${boundary}--`].join(CRLF) + CRLF;
}

function textPart(subtype: 'plain' | 'html', content: string): string {
  return part(
    [`Content-Type: text/${subtype}; charset=UTF-8`, 'Content-Transfer-Encoding: quoted-printable'],
    encodeQuotedPrintable(content),
  );
}

function attachmentPart(attachment: EmailAttachment): string {
  if (!mediaType.test(attachment.contentType)) throw new MimeError('attachment content type is not a media type');
  return part(
    [
      `Content-Type: ${attachment.contentType};${CRLF} ${fileNameParameter('name', attachment.filename)}`,
      `Content-Disposition: attachment;${CRLF} ${fileNameParameter('filename', attachment.filename)}`,
      'Content-Transfer-Encoding: base64',
    ],
    base64Lines(attachment.content),
  );
}

/**
 * A complete message, 7-bit ASCII with CRLF line endings: multipart/mixed holding a
 * multipart/alternative (text, then HTML) and base64 attachments. Throws MimeError for any header
 * value that would break the header (so no header can be injected).
 */
export function buildMimeMessage(message: MimeMessageInput): string {
  assertAddress(message.to, 'To');
  const alternative = multipart(ALTERNATIVE_BOUNDARY, [textPart('plain', message.text), textPart('html', message.html)]);
  const body =
    message.attachments.length === 0
      ? { type: ALTERNATIVE_BOUNDARY, subtype: 'alternative', content: alternative }
      : {
          type: MIXED_BOUNDARY,
          subtype: 'mixed',
          content: multipart(MIXED_BOUNDARY, [
            part([`Content-Type: multipart/alternative; boundary="${ALTERNATIVE_BOUNDARY}"`], alternative),
            ...message.attachments.map(attachmentPart),
          ]),
        };
  const headers = [
    encodeMailboxHeader('From', message.from),
    `To: ${message.to}`,
    encodeUnstructuredHeader('Subject', message.subject),
    `Date: ${formatDate(message.date)}`,
    'MIME-Version: 1.0',
    `Content-Type: multipart/${body.subtype}; boundary="${body.type}"`,
  ];
  return part(headers, body.content);
}

// ---- Parsing back: enough for messages built above and ordinary mail, not a general-purpose parser.

interface RawPart {
  headers: Map<string, string>;
  body: string;
}

function splitPart(raw: string): RawPart {
  const separator = /\r?\n\r?\n/.exec(raw);
  const head = separator ? raw.slice(0, separator.index) : raw;
  const body = separator ? raw.slice(separator.index + separator[0].length) : '';
  const headers = new Map<string, string>();
  for (const field of head.replace(/\r?\n(?=[ \t])/g, '').split(/\r?\n/)) {
    const colon = field.indexOf(':');
    if (colon > 0) headers.set(field.slice(0, colon).trim().toLowerCase(), field.slice(colon + 1).trim());
  }
  return { headers, body };
}

function decodeCharset(bytes: Uint8Array, charset: string): string {
  try {
    return new TextDecoder(charset).decode(bytes);
  } catch {
    return new TextDecoder().decode(bytes);
  }
}

/** Decodes RFC 2047 encoded words; whitespace between two adjacent encoded words is dropped. */
export function decodeHeaderValue(value: string): string {
  return value
    .replace(/(\?=)\s+(?==\?)/g, '$1')
    .replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g, (_, charset: string, encoding: string, text: string) => {
      const bytes = encoding.toUpperCase() === 'B' ? decodeBase64Lenient(text) : quotedPrintableBytes(text.replace(/_/g, ' '));
      return decodeCharset(bytes, charset.replace(/\*.*$/, ''));
    });
}

function headerParameter(value: string, name: string): string | undefined {
  const extended = new RegExp(`;\\s*${name}\\*=([^']*)'[^']*'([^;\\s]*)`, 'i').exec(value);
  if (extended) return decodeCharset(percentDecodedBytes(extended[2]!), extended[1]!);
  const plain = new RegExp(`;\\s*${name}=(?:"((?:[^"\\\\]|\\\\.)*)"|([^;\\s]+))`, 'i').exec(value);
  return plain ? decodeHeaderValue((plain[1] ?? plain[2]!).replace(/\\(.)/g, '$1')) : undefined;
}

function bodyBytes(raw: RawPart): Uint8Array {
  const transferEncoding = raw.headers.get('content-transfer-encoding')?.toLowerCase();
  if (transferEncoding === 'base64') return decodeBase64Lenient(raw.body);
  if (transferEncoding === 'quoted-printable') return quotedPrintableBytes(raw.body);
  return encoder.encode(raw.body);
}

function leafParts(raw: RawPart): RawPart[] {
  const boundary = headerParameter(raw.headers.get('content-type') ?? '', 'boundary');
  if (!boundary) return [raw];
  const delimiter = `--${boundary}`;
  const sections = raw.body.split(new RegExp(`(?:^|\\r?\\n)${delimiter.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  // The first section is the preamble; the one starting with "--" is the close delimiter and epilogue.
  return sections
    .slice(1)
    .filter((section) => !section.startsWith('--'))
    .flatMap((section) => leafParts(splitPart(section.replace(/^[ \t]*\r?\n/, ''))));
}

/** Reads a message back: headers decoded, the first text/plain and text/html bodies (with "\n" line ends), the attachments. */
export function parseMimeMessage(raw: string): ParsedMessage {
  const message = splitPart(raw);
  const header = (name: string) => decodeHeaderValue(message.headers.get(name) ?? '');
  const parsed: ParsedMessage = {
    from: header('from'),
    to: header('to'),
    subject: header('subject'),
    date: header('date'),
    text: '',
    html: '',
    attachments: [],
  };
  for (const leaf of leafParts(message)) {
    const contentType = leaf.headers.get('content-type') ?? 'text/plain';
    const type = contentType.split(';')[0]!.trim().toLowerCase();
    const disposition = leaf.headers.get('content-disposition') ?? '';
    const content = bodyBytes(leaf);
    if (/^attachment/i.test(disposition) || !type.startsWith('text/')) {
      const filename = headerParameter(disposition, 'filename') ?? headerParameter(contentType, 'name') ?? 'attachment';
      parsed.attachments.push({ filename, contentType: type, content });
      continue;
    }
    const text = decodeCharset(content, headerParameter(contentType, 'charset') ?? 'utf-8').replace(/\r\n/g, '\n');
    if (type === 'text/html' && !parsed.html) parsed.html = text;
    else if (type === 'text/plain' && !parsed.text) parsed.text = text;
  }
  return parsed;
}
