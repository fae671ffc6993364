import type { EndReason, ErrorCode, InvitationKind, ServerMessage } from './messages.js';
import { CodedError } from './coded-error.js';

/** What a relay error says besides its code and sentence (the fields of `{"type":"error"}`). */
export interface RelayErrorDetails {
  /** The action the relay was answering, when it said. */
  requestAction?: string;
  /** For `session-ended`: why the session ended, so a participant who was away learns it on resume. */
  endReason?: EndReason;
  /** For `wrong-kind`: what the invitation really is, so the client can say what to do with it. */
  invitationKind?: InvitationKind;
}

/**
 * An error the relay reports with a stable code, the same class at both ends of the wire: the relay's use
 * cases throw it (the handler sends it as `{"type":"error"}` and the connection stays usable), and the
 * SDK raises it for such a reply.
 */
export class RelayError extends CodedError<ErrorCode> {
  override readonly name = 'RelayError';
  readonly requestAction: string | undefined;
  readonly endReason: EndReason | undefined;
  readonly invitationKind: InvitationKind | undefined;

  constructor(code: ErrorCode, message: string, details: RelayErrorDetails = {}) {
    super(code, message);
    this.requestAction = details.requestAction;
    this.endReason = details.endReason;
    this.invitationKind = details.invitationKind;
  }

  /** The error a relay's `{"type":"error"}` reply reports. */
  static fromReply(reply: Extract<ServerMessage, { type: 'error' }>): RelayError {
    return new RelayError(reply.code, reply.message, reply);
  }
}
