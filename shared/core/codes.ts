import { CODE_ALPHABET, NAMEPLATE_LENGTH } from './code-alphabet.js';
import { randomBytes } from './tokens.js';
import { CodedError } from './coded-error.js';

// Codes, passwords and file secrets (docs/invitations.md): symbols of Crockford's base32, typed by
// people, so input is normalised before it is checked and every refusal says what is wrong.

/** Secret symbols after the nameplate in an Easy Connect password or a helper code: 40 bits. */
export const CODE_SECRET_LENGTH = 8;
/** Nameplate then secret, shown `XXXX-XXXX-XXXX`. */
export const CODE_LENGTH = NAMEPLATE_LENGTH + CODE_SECRET_LENGTH;
/** An invitation file's password, shown `XXXX-XXXX`: 40 bits. */
export const INVITATION_PASSWORD_LENGTH = 8;
export const FILE_SECRET_BYTES = 16;
/** 128 bits need ⌈128 / 5⌉ = 26 symbols; those hold 130 bits, so the top 2 bits are always zero. */
export const FILE_SECRET_LENGTH = Math.ceil((FILE_SECRET_BYTES * 8) / 5);

const BITS_PER_SYMBOL = 5;
const GROUP_SIZE = 4;

export type CodeFormatErrorCode =
  | 'wrong-length'
  | 'invalid-character'
  /** A file secret whose first symbol sets bits above the 128 it encodes (another text for the same bytes). */
  | 'non-canonical';

export class CodeFormatError extends CodedError<CodeFormatErrorCode> {
  override readonly name = 'CodeFormatError';
}

/** What is being parsed, for the messages: its name, its length and how people see it written. */
interface SymbolsKind {
  name: string;
  length: number;
  shownAs?: string;
}

const codeKind: SymbolsKind = { name: 'code', length: CODE_LENGTH, shownAs: 'XXXX-XXXX-XXXX' };
const nameplateKind: SymbolsKind = { name: 'nameplate', length: NAMEPLATE_LENGTH };
const codeSecretKind: SymbolsKind = { name: 'code secret', length: CODE_SECRET_LENGTH };
const passwordKind: SymbolsKind = { name: 'password', length: INVITATION_PASSWORD_LENGTH, shownAs: 'XXXX-XXXX' };
const fileSecretKind: SymbolsKind = { name: 'invitation secret', length: FILE_SECRET_LENGTH };

/**
 * Separators people type or paste: whitespace (including no-break and zero-width spaces, BOMs) and
 * any dash, since word processors and mail clients turn `-` into en dashes and minus signs.
 */
const separators = /[\s\p{Pd}\u2212\u200B\u2060\uFEFF]/gu;
const lookAlikes: Record<string, string> = { O: '0', I: '1', L: '1' };

/**
 * The bare symbols of a typed code: separators dropped, ASCII letters upper-cased, look-alikes
 * mapped to the digits they stand for. Only ASCII is case-folded, so no other script's letter can
 * turn into a valid symbol. Does not check the result; the parsers below do.
 */
export function normalizeCode(input: string): string {
  return input
    .replace(separators, '')
    .replace(/[a-z]/g, (letter) => letter.toUpperCase())
    .replace(/[OIL]/g, (letter) => lookAlikes[letter]!);
}

function describeCharacter(character: string): string {
  const codePoint = `U+${character.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
  return /^[\p{L}\p{N}\p{P}\p{S}]$/u.test(character) ? `"${character}" (${codePoint})` : codePoint;
}

/** Normalises and checks symbols and length; returns the canonical symbols. */
function parseSymbols(input: string, kind: SymbolsKind): string {
  const symbols = normalizeCode(input);
  for (const character of symbols) {
    if (!CODE_ALPHABET.includes(character)) {
      throw new CodeFormatError(
        'invalid-character',
        `${describeCharacter(character)} is not allowed in a ${kind.name}: ` +
          'use the digits 0-9 and the letters A-Z except U',
      );
    }
  }
  if (symbols.length !== kind.length) {
    const shape = kind.shownAs === undefined ? '' : `, written ${kind.shownAs}`;
    throw new CodeFormatError(
      'wrong-length',
      `the ${kind.name} has ${symbols.length} symbols; expected ${kind.length}${shape}`,
    );
  }
  return symbols;
}

/** `XXXXXXXX` → `XXXX-XXXX`: short groups are easier to read out and type. */
function groupSymbols(symbols: string): string {
  return symbols.match(new RegExp(`.{1,${GROUP_SIZE}}`, 'g'))?.join('-') ?? '';
}

/** Big-endian bytes as exactly `symbolCount` symbols, most significant first (zero-padded on the left). */
function encodeSymbols(bytes: Uint8Array, symbolCount: number): string {
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  let symbols = '';
  for (let i = 0; i < symbolCount; i++) {
    symbols = CODE_ALPHABET[Number(value & 31n)]! + symbols;
    value >>= BigInt(BITS_PER_SYMBOL);
  }
  return symbols;
}

/**
 * Code secrets and passwords are both 8 symbols, exactly 40 random bits: 5 random bytes re-read
 * 5 bits at a time, so every symbol is equally likely.
 */
function random40BitSymbols(): string {
  return encodeSymbols(randomBytes(5), 8);
}

/** The canonical nameplate of typed input (for example from a link): 4 symbols. */
export function normalizeNameplate(input: string): string {
  return parseSymbols(input, nameplateKind);
}

/** An Easy Connect password or a helper code, as typed: `NNNN-SSSS-SSSS`. */
export function parseCode(input: string): { nameplate: string; secret: string } {
  const symbols = parseSymbols(input, codeKind);
  return { nameplate: symbols.slice(0, NAMEPLATE_LENGTH), secret: symbols.slice(NAMEPLATE_LENGTH) };
}

/** The creator's part of a code: 8 random symbols, 40 bits. */
export function newCodeSecret(): string {
  return random40BitSymbols();
}

/** The code to read out, `NNNN-SSSS-SSSS`; refuses parts that would not parse back. */
export function formatCode(nameplate: string, secret: string): string {
  return groupSymbols(normalizeNameplate(nameplate) + parseSymbols(secret, codeSecretKind));
}

/** An invitation file's password: 8 random symbols, 40 bits; shown with formatInvitationPassword. */
export function newInvitationPassword(): string {
  return random40BitSymbols();
}

/** The canonical 8 symbols of a typed password. */
export function normalizeInvitationPassword(input: string): string {
  return parseSymbols(input, passwordKind);
}

/** `XXXX-XXXX`. */
export function formatInvitationPassword(password: string): string {
  return groupSymbols(normalizeInvitationPassword(password));
}

/** An invitation file's secret: 128 random bits as 26 symbols. */
export function newFileSecret(): string {
  return fileSecretText(randomBytes(FILE_SECRET_BYTES));
}

/** The 128 bits of a file secret; refuses any text but the one fileSecretText gives for them. */
export function fileSecretBytes(text: string): Uint8Array {
  const symbols = parseSymbols(text, fileSecretKind);
  let value = 0n;
  for (const symbol of symbols) value = (value << BigInt(BITS_PER_SYMBOL)) | BigInt(CODE_ALPHABET.indexOf(symbol));
  if (value >> BigInt(FILE_SECRET_BYTES * 8) !== 0n) {
    throw new CodeFormatError(
      'non-canonical',
      `the ${fileSecretKind.name} must start with a symbol from 0 to 7 (it encodes 128 bits)`,
    );
  }
  const bytes = new Uint8Array(FILE_SECRET_BYTES);
  for (let i = FILE_SECRET_BYTES - 1; i >= 0; i--) {
    bytes[i] = Number(value & 0xffn);
    value >>= 8n;
  }
  return bytes;
}

/** The 26-symbol text of 16 bytes. */
export function fileSecretText(bytes: Uint8Array): string {
  if (bytes.length !== FILE_SECRET_BYTES) {
    throw new RangeError(`a file secret is ${FILE_SECRET_BYTES} bytes, not ${bytes.length}`);
  }
  return encodeSymbols(bytes, FILE_SECRET_LENGTH);
}
