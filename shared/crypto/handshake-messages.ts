// Wire encoding of the handshake messages: [version, type, fixed-length fields...]. Every type has
// one exact length, so a parser needs no length fields and rejects anything else.
//
//   hello    either way       sid nonce (16)                           18 bytes
//   commit   expert → agent   commitment (64)                          66 bytes
//   share    agent → expert   Yb (32)                                  34 bytes
//   reveal   expert → agent   nonce (32) || Ya (32) || expert tag (64)  130 bytes
//   confirm  agent → expert   agent tag (64)                           66 bytes
//   abort    either way       (nothing)                                2 bytes

import { CPACE_SHARE_BYTES } from './cpace.js';
import { HandshakeError } from './errors.js';

/**
 * 2: both sides contribute a nonce to CPace's sid (hello). Version 1 (the relay's session id as sid,
 * no hello) is refused, never negotiated: a relay could otherwise downgrade every handshake to it.
 */
export const HANDSHAKE_VERSION = 2;
/** The version before hello; a message carrying it comes from an older release. */
const PREVIOUS_HANDSHAKE_VERSION = 1;
/** Each side's contribution to sid: 128 random bits. */
export const SID_NONCE_BYTES = 16;
export const COMMITMENT_BYTES = 64;
export const COMMITMENT_NONCE_BYTES = 32;
export const CONFIRMATION_TAG_BYTES = 64;

export type HandshakeMessage =
  | { type: 'hello'; nonce: Uint8Array }
  | { type: 'commit'; commitment: Uint8Array }
  | { type: 'share'; share: Uint8Array }
  | { type: 'reveal'; nonce: Uint8Array; share: Uint8Array; tag: Uint8Array }
  | { type: 'confirm'; tag: Uint8Array }
  | { type: 'abort' };

export type HandshakeMessageType = HandshakeMessage['type'];

const typeCodes: Record<HandshakeMessageType, number> = { commit: 1, share: 2, reveal: 3, confirm: 4, abort: 5, hello: 6 };
const typesByCode = new Map(Object.entries(typeCodes).map(([type, code]) => [code, type as HandshakeMessageType]));

/** Field lengths per type, in wire order. */
const fieldLengths: Record<HandshakeMessageType, readonly number[]> = {
  hello: [SID_NONCE_BYTES],
  commit: [COMMITMENT_BYTES],
  share: [CPACE_SHARE_BYTES],
  reveal: [COMMITMENT_NONCE_BYTES, CPACE_SHARE_BYTES, CONFIRMATION_TAG_BYTES],
  confirm: [CONFIRMATION_TAG_BYTES],
  abort: [],
};

const HEADER_BYTES = 2;

/** Exact encoded size of each message type. */
export const HANDSHAKE_MESSAGE_BYTES = Object.fromEntries(
  Object.entries(fieldLengths).map(([type, lengths]) => [type, lengths.reduce((sum, n) => sum + n, HEADER_BYTES)]),
) as Record<HandshakeMessageType, number>;

function fieldsOf(message: HandshakeMessage): Uint8Array[] {
  switch (message.type) {
    case 'hello':
      return [message.nonce];
    case 'commit':
      return [message.commitment];
    case 'share':
      return [message.share];
    case 'reveal':
      return [message.nonce, message.share, message.tag];
    case 'confirm':
      return [message.tag];
    case 'abort':
      return [];
  }
}

export function encodeHandshakeMessage(message: HandshakeMessage): Uint8Array {
  const fields = fieldsOf(message);
  const lengths = fieldLengths[message.type];
  const encoded = new Uint8Array(HANDSHAKE_MESSAGE_BYTES[message.type]);
  encoded[0] = HANDSHAKE_VERSION;
  encoded[1] = typeCodes[message.type];
  let offset = HEADER_BYTES;
  fields.forEach((field, i) => {
    if (field.length !== lengths[i]) throw new RangeError(`${message.type} field ${i} must be ${lengths[i]} bytes`);
    encoded.set(field, offset);
    offset += field.length;
  });
  return encoded;
}

/**
 * Parses one message; throws HandshakeError for anything else: 'peer-outdated' (a version-1 message,
 * whatever follows: an older release's commit or abort), 'peer-newer' (a higher version) or
 * 'malformed-message'.
 */
export function parseHandshakeMessage(bytes: Uint8Array): HandshakeMessage {
  if (bytes.length < HEADER_BYTES) throw new HandshakeError('malformed-message');
  if (bytes[0] === PREVIOUS_HANDSHAKE_VERSION) throw new HandshakeError('peer-outdated');
  if (bytes[0]! > HANDSHAKE_VERSION) throw new HandshakeError('peer-newer');
  if (bytes[0] !== HANDSHAKE_VERSION) throw new HandshakeError('malformed-message');
  const type = typesByCode.get(bytes[1]!);
  if (type === undefined || bytes.length !== HANDSHAKE_MESSAGE_BYTES[type]) {
    throw new HandshakeError('malformed-message');
  }
  let offset = HEADER_BYTES;
  // Copies, so later changes to the caller's buffer cannot reach the state machine.
  const fields = fieldLengths[type].map((length) => bytes.slice(offset, (offset += length)));
  switch (type) {
    case 'hello':
      return { type, nonce: fields[0]! };
    case 'commit':
      return { type, commitment: fields[0]! };
    case 'share':
      return { type, share: fields[0]! };
    case 'reveal':
      return { type, nonce: fields[0]!, share: fields[1]!, tag: fields[2]! };
    case 'confirm':
      return { type, tag: fields[0]! };
    case 'abort':
      return { type };
  }
}
