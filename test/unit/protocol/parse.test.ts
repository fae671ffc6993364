import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { MAX_FRAME_DATA_CHARS } from '../../../shared/core/messages.js';
import { clientActions } from '../../../shared/core/schemas.js';
import { MAX_DISPLAY_NAME_CHARACTERS } from '../../../shared/core/display-name.js';
import { parseClientMessage, parseEnvelope } from '../../../shared/core/parse.js';
import { RelayError } from '../../../shared/server/use-cases/errors.js';

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
    ['{"action":"createSession","sessionTtlSeconds":-5}', 'invalid-request'],
    ['{"action":"createSession","sessionTtlSeconds":1.5}', 'invalid-request'],
    ['{"action":"createSession","invitationTtlSeconds":"60"}', 'invalid-request'],
    ['{"action":"createSession","kind":"carrier-pigeon"}', 'invalid-request'],
    ['{"action":"approveSession"}', 'invalid-request'],
    ['{"action":"approveSession","mode":"everything"}', 'invalid-request'],
    ['{"action":"recordEvent","event":"approved"}', 'invalid-request'],
    ['{"action":"extendSession"}', 'invalid-request'],
    ['{"action":"extendSession","seconds":0}', 'invalid-request'],
    ['{"action":"extendSession","seconds":"1800"}', 'invalid-request'],
    ['{"action":"endSession","reason":"bored"}', 'invalid-request'],
    ['{"action":"emailInvitation","to":"a@example.org","requesterName":"Ada"}', 'invalid-request'],
    ['{"action":"emailInvitation","to":"","requesterName":"Ada","invitation":"{}"}', 'invalid-request'],
    [JSON.stringify({ action: 'emailInvitation', to: 'a@example.org', requesterName: 'A'.repeat(129), invitation: '{}' }), 'invalid-request'],
    [JSON.stringify({ action: 'emailInvitation', to: 'a@example.org', requesterName: 'Ada', invitation: 'x'.repeat(8193) }), 'invalid-request'],
  ])('rejects %j with %s', (body, code) => {
    expect(errorCodeOf(body)).toBe(code);
  });

  it('rejects frames over the 32 KB frame budget with frame-too-large', () => {
    const data = 'A'.repeat(MAX_FRAME_DATA_CHARS + 4);
    expect(errorCodeOf(JSON.stringify({ action: 'frame', data }))).toBe('frame-too-large');
  });

  it('accepts each valid message and keeps only the known fields', () => {
    expect(parseClientMessage('{"action":"createSession","kind":"file","sessionTtlSeconds":600,"invitationTtlSeconds":60,"extra":1}')).toEqual({
      action: 'createSession',
      kind: 'file',
      sessionTtlSeconds: 600,
      invitationTtlSeconds: 60,
    });
    expect(parseClientMessage('{"action":"approveSession","mode":"control"}')).toEqual({ action: 'approveSession', mode: 'control' });
    expect(parseClientMessage('{"action":"recordEvent","event":"paused"}')).toEqual({ action: 'recordEvent', event: 'paused' });
    expect(parseClientMessage('{"action":"reportFailedAttempt","x":1}')).toEqual({ action: 'reportFailedAttempt' });
    expect(parseClientMessage('{"action":"listAudit"}')).toEqual({ action: 'listAudit' });
    expect(parseClientMessage('{"action":"extendSession","seconds":1800}')).toEqual({ action: 'extendSession', seconds: 1800 });
    expect(parseClientMessage('{"action":"endSession","reason":"denied"}')).toEqual({ action: 'endSession', reason: 'denied' });
    expect(parseClientMessage('{"action":"endSession","reason":"idle-timeout"}')).toEqual({ action: 'endSession', reason: 'idle-timeout' });
    expect(parseClientMessage('{"action":"emailInvitation","to":"a@example.org","requesterName":"Ada","invitation":"{}"}')).toEqual({
      action: 'emailInvitation',
      to: 'a@example.org',
      requesterName: 'Ada',
      invitation: '{}',
    });
    // The longest name the SDK takes, in characters that are two UTF-16 units each.
    const longestName = '🛟'.repeat(MAX_DISPLAY_NAME_CHARACTERS);
    expect(parseClientMessage(JSON.stringify({ action: 'emailInvitation', to: 'a@example.org', requesterName: longestName, invitation: '{}' }))).toMatchObject({
      requesterName: longestName,
    });
    expect(parseClientMessage('{"action":"frame","data":"aGVsbG8="}')).toEqual({ action: 'frame', data: 'aGVsbG8=' });
    expect(parseClientMessage('{"action":"joinSession","nameplate":"k7qm"}')).toEqual({
      action: 'joinSession',
      nameplate: 'K7QM',
    });
    expect(parseClientMessage('{"action":"endSession"}')).toEqual({ action: 'endSession' });
  });

  it('never fails with anything but a RelayError, whatever the input', () => {
    const anyJson = fc.oneof(fc.string(), fc.json(), fc.object().map((value) => JSON.stringify(value)));
    const actionShaped = fc
      .record({
        action: fc.constantFrom(...clientActions, 'other'),
        data: fc.oneof(fc.string(), fc.base64String(), fc.integer()),
        nameplate: fc.oneof(fc.string(), fc.stringMatching(/^[A-Z0-9]{1,8}$/)),
        sessionId: fc.string(),
        resumeToken: fc.string(),
        sessionTtlSeconds: fc.oneof(fc.integer(), fc.double(), fc.string()),
        invitationTtlSeconds: fc.oneof(fc.integer(), fc.double(), fc.string()),
        kind: fc.oneof(fc.constantFrom('file', 'easy-connect', 'helper-code'), fc.string(), fc.integer()),
        mode: fc.oneof(fc.constantFrom('view', 'control'), fc.string()),
        event: fc.oneof(fc.constantFrom('paused', 'resumed'), fc.string()),
        reason: fc.oneof(fc.constantFrom('denied', 'idle-timeout'), fc.string()),
        to: fc.oneof(fc.emailAddress(), fc.string()),
        requesterName: fc.string(),
        invitation: fc.oneof(fc.string(), fc.json()),
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

  it('a body parsed to choose its route is not parsed again; any other body is, and malformed ones still fail', () => {
    const parse = vi.spyOn(JSON, 'parse');
    const body = '{"action":"approveSession","mode":"view"}';
    expect(parseEnvelope(body).action).toBe('approveSession');
    expect(parseClientMessage(body)).toEqual({ action: 'approveSession', mode: 'view' });
    expect(parse).toHaveBeenCalledTimes(1);
    expect(parseClientMessage('{"action":"approveSession","mode":"control"}')).toEqual({ action: 'approveSession', mode: 'control' });
    expect(() => parseEnvelope('{"action":')).toThrow(RelayError);
    expect(errorCodeOf('{"action":')).toBe('malformed-json');
    expect(errorCodeOf('[1,2]')).toBe('malformed-json');
    expect(errorCodeOf('[1,2]')).toBe('malformed-json');
    parse.mockRestore();
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
