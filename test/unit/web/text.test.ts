import { describe, expect, it } from 'vitest';
import { CodeFormatError, parseCode } from '../../../shared/core/codes.js';
import { AssistSetupError } from '../../../sdk/assist.js';
import { RelayError } from '../../../sdk/connection.js';
import { SecureSessionError } from '../../../sdk/secure-session.js';
import { allowedText, errorText, lastSeenText, minutesAndSeconds, sentence, spacedCode, timeLeft } from '../../../web/src/text.js';
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

  it('names the device an offer went to in the relay’s refusals of it, in the console’s words (the relay’s name the CLI)', () => {
    const refused = (code: 'offer-not-permitted' | 'device-unavailable') => new RelayError(code, 'run assist devices', { requestAction: 'offerHelp' });
    expect(errorText(refused('offer-not-permitted'), { device: 'Reception PC' })).toBe('You may no longer offer help to Reception PC: the operator changed the policy, or removed the device.');
    expect(errorText(refused('device-unavailable'), { device: 'Reception PC' })).toBe(
      'Reception PC is not connected to the relay now (its agent is not running). Try again once it shows as online.',
    );
    expect(errorText(refused('device-unavailable'))).toMatch(/^The device is not connected/);
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

describe('the Devices view’s words', () => {
  const now = Date.UTC(2026, 11, 3, 17, 0, 0);
  const secondsAgo = (seconds: number) => now / 1000 - seconds;

  it('says when a device was last seen, relative to now', () => {
    expect(lastSeenText(secondsAgo(0), now)).toBe('just now');
    expect(lastSeenText(secondsAgo(59), now)).toBe('just now');
    expect(lastSeenText(secondsAgo(60), now)).toBe('1 minute ago');
    expect(lastSeenText(secondsAgo(59 * 60 + 59), now)).toBe('59 minutes ago');
    expect(lastSeenText(secondsAgo(3600), now)).toBe('1 hour ago');
    expect(lastSeenText(secondsAgo(86_400), now)).toBe('yesterday');
    expect(lastSeenText(secondsAgo(3 * 86_400 + 10), now)).toBe('3 days ago');
    // A relay clock slightly ahead of this browser's: not "in 3 seconds".
    expect(lastSeenText(secondsAgo(-3), now)).toBe('just now');
  });

  it('says what the policy allows, and counts down in minutes and seconds', () => {
    expect(allowedText('control', 'ask')).toBe('View and control, if the person allows it');
    expect(allowedText('view', 'notice')).toBe('View only, with a notice on the screen (no question)');
    expect([60, 59, 5, 0, 125].map(minutesAndSeconds)).toEqual(['1:00', '0:59', '0:05', '0:00', '2:05']);
  });
});
