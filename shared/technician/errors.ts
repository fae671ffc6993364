import { CodedError } from '../core/coded-error.js';

/** Why an ID token was refused; each names what to fix (technicianTokenSentence). */
export type TechnicianTokenErrorCode =
  | 'token-malformed'
  | 'token-expired'
  | 'token-clock-skew'
  | 'token-wrong-issuer'
  | 'token-wrong-audience'
  | 'token-bad-signature'
  | 'token-missing-claim'
  | 'token-key-mismatch'
  | 'issuer-unreachable';

/** An ID token (or the proof built on it) that was refused: by the relay's ticket route, or by a device. */
export class TechnicianTokenError extends CodedError<TechnicianTokenErrorCode> {
  override readonly name = 'TechnicianTokenError';
}
