// How a help-desk offer was turned down, in words for the technician: the one table the CLI (`assist offer
// --device`) and the console both show (docs/help-desk.md). The kind comes from the device's own answer, which
// the relay passes on with the end of the session ('ended' with offerAnswer). The relay could lie about it (it
// can end any session as 'denied'), so these sentences never claim more than "the device answered so".

import type { OfferAnswer } from './messages.js';

/** An answer that turns the offer down: anything but allowing view or control. */
export type OfferRefusalAnswer = Exclude<OfferAnswer, 'view' | 'control'>;

/** How it was turned down: the person said no, nobody answered in time, or the device refused without asking. */
export type TurnedDown = 'said-no' | 'no-answer' | 'device-refused';

export const turnedDownBy = (answer: OfferRefusalAnswer): TurnedDown => (answer === 'deny' ? 'said-no' : answer === 'no-answer' ? 'no-answer' : 'device-refused');

/** What to do about a refusal the device made itself, by the kind of check that failed. */
function deviceRefusalAdvice(answer: OfferRefusalAnswer): string {
  if (answer.startsWith('token-') || answer === 'issuer-unreachable') return 'it did not accept your sign-in: sign in again, and if it goes on, ask the operator whether the device trusts your organisation’s sign-in';
  if (answer.includes('polic')) return 'the operator’s signed policy for its group did not check out there: ask the operator to set the policy again';
  if (answer === 'not-permitted') return 'the operator’s signed policy does not let your groups help it';
  if (answer === 'stale-offer') return 'the offer looked too old to it: check the clocks of both computers';
  return 'what reached it was not what you sent (the relay may have altered or replayed the offer): tell the operator';
}

/**
 * The sentence for an offer to `device` that was turned down with `answer` (the device's code); `consentSeconds`
 * is how long the person had, when the device said so.
 */
export function offerTurnedDownText(answer: OfferRefusalAnswer, device: string, consentSeconds?: number): string {
  switch (turnedDownBy(answer)) {
    case 'said-no':
      return `The person at ${device} said no: they did not let you in.`;
    case 'no-answer':
      return `Nobody at ${device} answered${consentSeconds === undefined ? ' in time' : ` within ${consentSeconds} s`}, so the offer was turned down. Try again when the person is at the computer.`;
    case 'device-refused':
      return `${device} refused the offer without asking anyone (${answer}): ${deviceRefusalAdvice(answer)}. The operator’s audit log has the details: npm run audit-log -- --device "${device}".`;
  }
}
