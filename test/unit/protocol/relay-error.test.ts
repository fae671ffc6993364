import { describe, expect, it } from 'vitest';
import { RelayError as SdkRelayError } from '../../../sdk/index.js';
import { RelayError } from '../../../shared/core/relay-error.js';
import { sessionEndedError, wrongKindError } from '../../../shared/server/use-cases/errors.js';

describe('RelayError: one class at both ends of the wire', () => {
  it('what the relay throws is what the SDK raises', () => {
    expect(SdkRelayError).toBe(RelayError);
    expect(sessionEndedError('burned')).toBeInstanceOf(SdkRelayError);
  });

  it('survives the trip through a {"type":"error"} reply with its code and details', () => {
    for (const thrown of [sessionEndedError('peer-gone'), wrongKindError('helper-code', 'easy-connect'), new RelayError('rate-limited', 'slow down')]) {
      const reply = { type: 'error' as const, code: thrown.code, message: thrown.message, requestAction: 'joinSession', endReason: thrown.endReason, invitationKind: thrown.invitationKind };
      const raised = RelayError.fromReply(JSON.parse(JSON.stringify(reply)));
      expect(raised).toMatchObject({ name: 'RelayError', code: thrown.code, message: thrown.message, requestAction: 'joinSession', endReason: thrown.endReason, invitationKind: thrown.invitationKind });
    }
  });
});
