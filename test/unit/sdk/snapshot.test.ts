// The saved session as text: bytes survive the round trip, and anything damaged or foreign is a
// SnapshotFormatError with a sentence, never a crash inside the restored stream.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AssistSnapshot } from '../../../sdk/assist-session.js';
import { decodeAssistSnapshot, encodeAssistSnapshot, SnapshotFormatError } from '../../../sdk/snapshot.js';

const snapshot: AssistSnapshot = {
  role: 'expert',
  name: 'Grace Hopper',
  peerName: 'Ada Lovelace',
  verificationCode: '123456',
  mode: 'control',
  control: true,
  paused: false,
  terminal: true,
  sharing: false,
  video: undefined,
  size: undefined,
  maxFailedAttempts: 3,
  relay: {
    url: 'ws://127.0.0.1:8787',
    session: {
      sessionId: 's1',
      nameplate: 'ABCD',
      role: 'expert',
      kind: 'easy-connect',
      invitationExpiresAt: 1,
      maxFailedAttempts: 3,
      resumeToken: 'token',
      expiresAt: 2,
      idleTimeoutSeconds: 900,
      resumeGraceSeconds: 300,
      peerConnected: true,
    },
    activation: { mode: 'control', expiresAt: 2 },
    sessionStream: {
      keys: { format: 'aes-256-gcm', role: 'expert', sendSecret: new Uint8Array(64).fill(1), receiveSecret: new Uint8Array(64).fill(2) },
      stream: {
        nextDataSeq: 3,
        sendBase: 1,
        inFlight: [{ seq: 1, frame: Uint8Array.of(1, 2, 3), sacked: false }, { seq: 2, frame: Uint8Array.of(4), sacked: true }],
        queued: [{ bytes: Uint8Array.of(9, 9), offset: 1 }],
        ending: false,
        closeSeq: undefined,
        nextControlSeq: 7,
        nextExpected: 5,
        reorderBuffer: [{ seq: 7, body: Uint8Array.of(1, 0) }],
        partialMessage: Uint8Array.of(5, 6),
        remoteClosed: false,
        newestControlSeq: 4,
      },
    },
  },
};

describe('session snapshots as text', () => {
  it('round-trips every field, bytes included', () => {
    const back = decodeAssistSnapshot(encodeAssistSnapshot(snapshot));
    expect(back).toEqual(snapshot);
    expect(back.relay.sessionStream?.stream.inFlight[0]?.frame).toEqual(Uint8Array.of(1, 2, 3));
    expect(back.relay.sessionStream?.keys).toEqual(snapshot.relay.sessionStream!.keys);
    expect(back.relay.session.resumeToken).toBe('token');
  });

  it('refuses other versions, missing fields and wrong types with a SnapshotFormatError', () => {
    const text = encodeAssistSnapshot(snapshot);
    const envelope = JSON.parse(text) as { version: number; snapshot: Record<string, unknown> };
    const variants = [
      JSON.stringify({ ...envelope, version: 2 }),
      JSON.stringify({ ...envelope, snapshot: { ...envelope.snapshot, role: 'admin' } }),
      text.replace('"resumeToken":"token"', '"resumeToken":7'),
      text.replace('"nextDataSeq":3', '"nextDataSeq":-1'),
      text.replace(/"\$bytes":"[^"]*"/, '"$bytes":"not base64!"'),
      text.slice(0, text.length / 2),
      '',
      'null',
    ];
    for (const variant of variants) expect(() => decodeAssistSnapshot(variant), variant.slice(0, 60)).toThrow(SnapshotFormatError);
  });

  it('answers any text with a snapshot or a SnapshotFormatError, nothing else', () => {
    const text = encodeAssistSnapshot(snapshot);
    const damaged = fc.tuple(fc.nat({ max: text.length }), fc.nat({ max: 40 }), fc.string({ maxLength: 20 })).map(
      ([at, cut, insert]) => text.slice(0, at) + insert + text.slice(at + cut),
    );
    fc.assert(
      fc.property(fc.oneof(fc.string(), damaged), (candidate) => {
        try {
          decodeAssistSnapshot(candidate);
        } catch (error) {
          expect(error).toBeInstanceOf(SnapshotFormatError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
