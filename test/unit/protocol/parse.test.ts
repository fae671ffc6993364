import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_FRAME_DATA_CHARS } from '../../../shared/protocol/messages.js';
import { parseClientMessage } from '../../../shared/protocol/parse.js';
import { RelayError } from '../../../shared/relay/errors.js';

function errorCodeOf(body: string | undefined): string {
  try {
    parseClientMessage(body);
  } catch (error) {
    if (error instanceof RelayError) return error.code;
    throw error;
  }
  return 'accepted';
}

describe('parseClientMessage', () => {
  it.each([
    ['not json', 'malformed-json'],
    ['', 'malformed-json'],
    [undefined, 'malformed-json'],
    ['[1,2]', 'malformed-json'],
    ['null', 'malformed-json'],
    ['"frame"', 'malformed-json'],
    ['{}', 'unknown-action'],
    ['{"action":"launchMissiles"}', 'unknown-action'],
    ['{"action":42}', 'unknown-action'],
    ['{"action":"frame"}', 'invalid-request'],
    ['{"action":"frame","data":"not base64!"}', 'invalid-request'],
    ['{"action":"frame","data":"abc"}', 'invalid-request'],
    ['{"action":"frame","data":5}', 'invalid-request'],
    ['{"action":"joinSession"}', 'invalid-request'],
    ['{"action":"joinSession","nameplate":"AB CD"}', 'invalid-request'],
    ['{"action":"resumeSession","sessionId":"short","resumeToken":"x"}', 'invalid-request'],
    ['{"action":"createSession","ttlSeconds":-5}', 'invalid-request'],
    ['{"action":"createSession","ttlSeconds":1.5}', 'invalid-request'],
    ['{"action":"createSession","ttlSeconds":"60"}', 'invalid-request'],
  ])('rejects %j with %s', (body, code) => {
    expect(errorCodeOf(body)).toBe(code);
  });

  it('rejects frames over the 32 KB frame budget with frame-too-large', () => {
    const data = 'A'.repeat(MAX_FRAME_DATA_CHARS + 4);
    expect(errorCodeOf(JSON.stringify({ action: 'frame', data }))).toBe('frame-too-large');
  });

  it('accepts each valid message and keeps only the known fields', () => {
    expect(parseClientMessage('{"action":"createSession","ttlSeconds":600,"extra":1}')).toEqual({
      action: 'createSession',
      ttlSeconds: 600,
    });
    expect(parseClientMessage('{"action":"frame","data":"aGVsbG8="}')).toEqual({ action: 'frame', data: 'aGVsbG8=' });
    expect(parseClientMessage('{"action":"joinSession","nameplate":"K7QM"}')).toEqual({
      action: 'joinSession',
      nameplate: 'K7QM',
    });
    expect(parseClientMessage('{"action":"endSession"}')).toEqual({ action: 'endSession' });
  });

  it('never fails with anything but a RelayError, whatever the input', () => {
    const anyJson = fc.oneof(fc.string(), fc.json(), fc.object().map((value) => JSON.stringify(value)));
    const actionShaped = fc
      .record({
        action: fc.constantFrom('createSession', 'joinSession', 'resumeSession', 'frame', 'endSession', 'other'),
        data: fc.oneof(fc.string(), fc.base64String(), fc.integer()),
        nameplate: fc.oneof(fc.string(), fc.stringMatching(/^[A-Z0-9]{1,8}$/)),
        sessionId: fc.string(),
        resumeToken: fc.string(),
        ttlSeconds: fc.oneof(fc.integer(), fc.double(), fc.string()),
      }, { requiredKeys: ['action'] })
      .map((value) => JSON.stringify(value));
    fc.assert(
      fc.property(fc.oneof(anyJson, actionShaped), (body) => {
        const code = errorCodeOf(body);
        expect(typeof code).toBe('string');
      }),
      { numRuns: 3000 },
    );
  });

  it('round-trips any base64 frame data that fits the budget', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (bytes) => {
        const data = Buffer.from(bytes).toString('base64');
        expect(parseClientMessage(JSON.stringify({ action: 'frame', data }))).toEqual({ action: 'frame', data });
      }),
    );
  });
});
