import { describe, expect, it } from 'vitest';
import { CodeFormatError, parseCode } from '../../../shared/core/codes.js';
import { AssistSetupError } from '../../../sdk/assist.js';
import { RelayError } from '../../../sdk/connection.js';
import { SecureSessionError } from '../../../sdk/secure-session.js';
import { errorText, sentence, spacedCode, timeLeft } from '../../../web/src/text.js';
import { refusal } from '../../support/refusal.js';

// What the console says to people: plain sentences, for the side reading them.

describe('errorText for another version of assist on the other side', () => {
  it('asks an older peer to update, and for a newer one says the relay (which serves this console) needs updating', () => {
    expect(errorText(new SecureSessionError('peer-outdated'))).toBe(
      'The other side uses an older version of assist, which cannot connect to this one. Ask them to update it, then try again.',
    );
    expect(errorText(new SecureSessionError('peer-newer'))).toContain('The relay needs an update');
  });
});

describe('errorText', () => {
  it('answers every way an invitation can be gone the same way, so nothing is learnt about its state', () => {
    const texts = (['session-not-found', 'session-ended', 'session-expired'] as const).map((code) => errorText(new RelayError(code, 'x', { requestAction: 'joinSession', endReason: 'expired' })));
    expect(new Set(texts)).toEqual(new Set(['This invitation has expired, was used or withdrawn, or does not exist. Ask for a new one.']));
  });

  it('keeps the relay’s advice where it has some, as a sentence', () => {
    expect(errorText(new RelayError('rate-limited', 'try again in 5 minutes', { requestAction: 'joinSession' }))).toBe('Too many attempts. Try again in 5 minutes.');
    expect(errorText(new RelayError('role-taken', 'taken', { requestAction: 'joinSession' }))).toContain('Someone else is connecting');
  });

  it('turns typed input errors into sentences and says when the relay cannot be reached', () => {
    const badCode = refusal(CodeFormatError, () => parseCode('7KQ3-ABCD'));
    expect(errorText(badCode)).toBe(sentence(badCode.message));
    expect(errorText(badCode)).toMatch(/^[A-Z].*\.$/);
    expect(errorText(new AssistSetupError('relay-unreachable', 'could not read …/relay.json: HTTP 502'))).toBe('The relay cannot be reached. Check your connection and try again.');
    expect(errorText(new Error('boom'))).toBe('Something went wrong: Boom.');
  });
});

describe('timeLeft, spacedCode, sentence', () => {
  it('says time left in words', () => {
    expect([-5, 0, 59, 60, 12 * 60 + 59, 3600, 2 * 3600 - 1].map(timeLeft)).toEqual(['none', 'none', 'less than a minute', '1 min', '12 min', '1 h 00 min', '1 h 59 min']);
  });

  it('groups a six-digit code in threes and leaves anything else alone', () => {
    expect(spacedCode('123456')).toBe('123 456');
    expect(spacedCode('12345')).toBe('12345');
  });

  it('capitalises and ends with a full stop once', () => {
    expect(sentence(' the link was cut short ')).toBe('The link was cut short.');
    expect(sentence('Done!')).toBe('Done!');
    expect(sentence('')).toBe('');
  });
});
