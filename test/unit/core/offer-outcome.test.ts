// How a turned-down offer reads for the technician (CLI and console alike): one sentence per kind, from the
// device's answer; every refusal code the device can send has one that names the code and what to do.
import { describe, expect, it } from 'vitest';
import { offerAnswers } from '../../../shared/core/messages.js';
import { offerTurnedDownText, turnedDownBy, type OfferRefusalAnswer } from '../../../shared/core/offer-outcome.js';

const refusals = offerAnswers.filter((answer): answer is OfferRefusalAnswer => answer !== 'view' && answer !== 'control');

describe('offerTurnedDownText', () => {
  it('tells "said no", "no answer" and "the device refused" apart', () => {
    expect(turnedDownBy('deny')).toBe('said-no');
    expect(offerTurnedDownText('deny', 'Reception PC')).toBe('The person at Reception PC said no: they did not let you in.');
    expect(turnedDownBy('no-answer')).toBe('no-answer');
    expect(offerTurnedDownText('no-answer', 'Reception PC', 90)).toBe('Nobody at Reception PC answered within 90 s, so the offer was turned down. Try again when the person is at the computer.');
    expect(offerTurnedDownText('no-answer', 'Reception PC')).toContain('answered in time');
  });

  it.each(refusals.filter((answer) => answer !== 'deny' && answer !== 'no-answer'))('names the device’s refusal %s and what to do', (answer) => {
    expect(turnedDownBy(answer)).toBe('device-refused');
    const text = offerTurnedDownText(answer, 'Reception PC');
    expect(text).toMatch(new RegExp(`^Reception PC refused the offer without asking anyone \\(${answer}\\): \\S`));
    expect(text).toContain('npm run audit-log -- --device "Reception PC"');
  });

  it('gives each kind of check its own advice', () => {
    const advice = (answer: OfferRefusalAnswer) => offerTurnedDownText(answer, 'D').slice(offerTurnedDownText(answer, 'D').indexOf('): ') + 3);
    expect(advice('token-expired')).toContain('sign in again');
    expect(advice('bad-policy-signature')).toContain('set the policy again');
    expect(advice('not-permitted')).toContain('does not let your groups');
    expect(advice('stale-offer')).toContain('clocks');
    expect(advice('replayed-offer')).toContain('relay may have altered or replayed');
  });
});
