import type { EndReason, ErrorCode } from '../protocol/messages.js';

/** An error the caller is told about, with a stable code; the connection stays usable. */
export class RelayError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Why the session ended, for `session-ended`: a participant who was away learns it on resume. */
    readonly endReason?: EndReason,
  ) {
    super(message);
    this.name = 'RelayError';
  }
}

export function sessionEndedError(reason: EndReason | undefined): RelayError {
  return new RelayError('session-ended', `the session has ended (${reason ?? 'ended'})`, reason);
}

/** The connection is bound to a session but no longer holds its seat (resumed elsewhere, or removed). */
export function seatLostError(): RelayError {
  return new RelayError('not-in-session', 'this connection no longer holds its seat in the session; resume it');
}
