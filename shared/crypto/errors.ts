// Typed failures of the key exchange. Messages are fixed per code so an error can be logged
// or shown without ever carrying secret material.

import { CodedError } from '../core/coded-error.js';

export type HandshakeErrorCode =
  /** Bytes that are not a well-formed handshake message of this version. */
  | 'malformed-message'
  /** A message of handshake version 1: the peer runs an older release, which this one does not speak. */
  | 'peer-outdated'
  /** A message of a handshake version above this implementation's: the peer runs a newer release. */
  | 'peer-newer'
  /** A well-formed message that is not the one this state expects (for example a second commit). */
  | 'unexpected-message'
  /** Local misuse: start() twice, receive() after the handshake ended, and the like. */
  | 'wrong-state'
  /** A CPace share that is not a canonical ristretto255 encoding or yields the identity. */
  | 'invalid-point'
  /** The expert's reveal does not open its commitment. */
  | 'commitment-mismatch'
  /** Key confirmation failed: wrong password, tampering or an active attacker. Deliberately says no more. */
  | 'confirmation-failed'
  /** The peer sent an abort before anything could be confirmed. */
  | 'peer-aborted';

const messages: Record<HandshakeErrorCode, string> = {
  'malformed-message': 'Malformed handshake message.',
  'peer-outdated': 'The peer speaks an older handshake version.',
  'peer-newer': 'The peer speaks a newer handshake version.',
  'unexpected-message': 'Unexpected handshake message for this state.',
  'wrong-state': 'Handshake is not in a state that allows this call.',
  'invalid-point': 'Invalid CPace share.',
  'commitment-mismatch': 'The reveal does not match the commitment.',
  'confirmation-failed': 'Key confirmation failed.',
  'peer-aborted': 'The peer aborted the handshake.',
};

export class HandshakeError extends CodedError<HandshakeErrorCode> {
  override readonly name = 'HandshakeError';

  constructor(code: HandshakeErrorCode) {
    super(code, messages[code]);
  }
}
