// What the SDK takes from the relay: each message the relay sends passes, checked against the same schemas the
// types come from; anything else is a ProtocolError naming what is wrong, never a crash or a half-read message.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseServerMessage, ProtocolError } from '../../../shared/core/server-messages.js';
import type { ServerMessage } from '../../../shared/core/messages.js';

const session = {
  sessionId: 'S'.repeat(22),
  role: 'agent',
  kind: 'easy-connect',
  invitationExpiresAt: 1_900_000_000,
  maxFailedAttempts: 3,
  resumeToken: 'T'.repeat(43),
  expiresAt: 1_900_007_200,
  idleTimeoutSeconds: 900,
  resumeGraceSeconds: 300,
  peerConnected: false,
} as const;

const relayMessages: ServerMessage[] = [
  { type: 'sessionCreated', nameplate: 'K7QM', ...session },
  { type: 'sessionJoined', nameplate: 'K7QM', ...session, role: 'expert' },
  { type: 'sessionResumed', ...session },
  { type: 'frame', data: 'aGVsbG8=' },
  { type: 'peer', state: 'left' },
  { type: 'sessionActive', mode: 'control', expiresAt: 1_900_007_200 },
  { type: 'attemptRecorded', failedAttempts: 1, maxFailedAttempts: 3, burned: false },
  { type: 'eventRecorded', event: 'paused' },
  { type: 'sessionExtended', expiresAt: 1, maxExpiresAt: 2 },
  { type: 'invitationEmailed', to: 'bob@example.org' },
  { type: 'auditLog', sessionId: 'S'.repeat(22), events: [{ at: 1, event: 'created', role: 'agent', nameplate: 'K7QM' }, { at: 2, event: 'ended', detail: 'expired' }] },
  { type: 'ended', reason: 'burned' },
  { type: 'deviceEnrolled', deviceId: 'D'.repeat(22), name: 'PC', group: 'G', enrolledAt: 1, operatorKey: 'K'.repeat(43) },
  { type: 'deviceChallenge', challenge: 'C'.repeat(43) },
  { type: 'deviceSignedIn', deviceId: 'D'.repeat(22), name: 'PC', group: 'G' },
  { type: 'deviceHeartbeatAcknowledged' },
  { type: 'error', code: 'session-ended', message: 'the session has ended (expired)', requestAction: 'resumeSession', endReason: 'expired' },
  { type: 'error', code: 'wrong-kind', message: 'no', invitationKind: 'helper-code' },
];

function problem(value: unknown): string {
  try {
    parseServerMessage(value);
  } catch (error) {
    if (error instanceof ProtocolError) return error.message;
    throw error;
  }
  return 'accepted';
}

describe('parseServerMessage', () => {
  it.each(relayMessages.map((message) => [message.type, message] as const))('takes %s as the relay sends it', (_type, message) => {
    expect(parseServerMessage(JSON.parse(JSON.stringify(message)))).toEqual(message);
  });

  it('drops fields it does not know', () => {
    expect(parseServerMessage({ type: 'peer', state: 'connected', extra: 1 })).toEqual({ type: 'peer', state: 'connected' });
  });

  it.each([
    [null, 'must name a message type'],
    [{ type: 'launchMissiles' }, 'must name a message type'],
    [{ type: 'ended', reason: 'bored' }, '"reason" must be one of'],
    [{ type: 'sessionActive', mode: 'control' }, '"expiresAt" must be a number'],
    [{ type: 'sessionCreated', nameplate: 'K7QM', ...session, peerConnected: 'yes' }, '"peerConnected" must be true or false'],
    [{ type: 'auditLog', sessionId: 's', events: [{ at: 1, event: 'teleported' }] }, '"events.0.event" must be one of'],
    [{ type: 'error', code: 'nope', message: 'x' }, '"code" must be one of'],
  ])('refuses %j, saying what is wrong', (value, why) => {
    expect(problem(value)).toContain(why);
  });

  it('never fails with anything but a ProtocolError, whatever arrives', () => {
    const types = relayMessages.map((message) => message.type);
    const shaped = fc.record({ type: fc.oneof(fc.constantFrom(...types), fc.string()), state: fc.anything(), reason: fc.anything(), code: fc.anything(), message: fc.anything(), events: fc.anything(), expiresAt: fc.anything() }, { requiredKeys: ['type'] });
    fc.assert(
      fc.property(fc.oneof(fc.anything(), fc.jsonValue(), shaped), (value) => {
        expect(typeof problem(value)).toBe('string');
      }),
      { numRuns: 3000 },
    );
  });
});
