import type { EndReason, InvitationKind } from '../../core/messages.js';
import { RelayError } from '../../core/relay-error.js';

// The errors the use cases throw: the one RelayError (shared/core/relay-error.ts), which the SDK raises too.
export { RelayError };

export function sessionEndedError(reason: EndReason | undefined): RelayError {
  return new RelayError('session-ended', `the session has ended (${reason ?? 'ended'})`, { endReason: reason });
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
  return new RelayError('wrong-kind', `this invitation is ${kindNames[actual]}, not ${kindNames[expected]}`, { invitationKind: actual });
}
