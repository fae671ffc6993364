import type { EndReason, ErrorCode, InvitationKind } from '../protocol/messages.js';

/** An error the caller is told about, with a stable code; the connection stays usable. */
export class RelayError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Why the session ended, for `session-ended`: a participant who was away learns it on resume. */
    readonly endReason?: EndReason,
    /** For `wrong-kind`: what the invitation really is, so the client can say what to do with it. */
    readonly invitationKind?: InvitationKind,
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

/** How each kind of invitation is called where the relay names it. */
const kindNames: Record<InvitationKind, string> = {
  file: 'an invitation file or link',
  'easy-connect': 'an Easy Connect password',
  'helper-code': 'a helper code',
};

/** A join that expected another kind of invitation: refused before any seat is taken. */
export function wrongKindError(actual: InvitationKind, expected: InvitationKind): RelayError {
  return new RelayError('wrong-kind', `this invitation is ${kindNames[actual]}, not ${kindNames[expected]}`, undefined, actual);
}
