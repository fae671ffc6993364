// Checks of the assistance codec: the one-encoding rule as a property (any byte string either parses
// to the one message that encodes to exactly those bytes, or is refused with a typed error), and the
// code a refusal carries.
import fc from 'fast-check';
import { expect } from 'vitest';
import { AssistMessageError, decodeAssistMessage, encodeAssistMessage, type AssistMessage } from '../../../../sdk/assist-messages.js';

export function expectOneEncodingOrTypedError(candidates: fc.Arbitrary<Uint8Array>): void {
  fc.assert(
    fc.property(candidates, (input) => {
      let message: AssistMessage;
      try {
        message = decodeAssistMessage(input);
      } catch (error) {
        expect(error).toBeInstanceOf(AssistMessageError);
        return;
      }
      expect(encodeAssistMessage(message)).toEqual(input);
    }),
    { numRuns: 20_000 },
  );
}

/** The typed error's code for what `run` threw, `accepted` when it threw nothing. */
export function refusal(run: () => unknown): string {
  try {
    run();
    return 'accepted';
  } catch (error) {
    return error instanceof AssistMessageError ? error.code : `untyped: ${String(error)}`;
  }
}

export const bytes = (...values: number[]) => Uint8Array.from(values);
