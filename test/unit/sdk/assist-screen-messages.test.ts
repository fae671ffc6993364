// The screen-sharing messages' codec: a share's start and stop, and JPEG images of the screen.
// Every valid one round-trips; every byte string with their type codes either parses to the one
// message that encodes to exactly those bytes or is refused with a typed error.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeAssistMessage,
  encodeAssistMessage,
  MAX_SCREEN_DIMENSION,
  MAX_SCREEN_IMAGE_BYTES,
  screenImageProblem,
  shareStoppedSentence,
  shareStopReasons,
  type AssistMessage,
} from '../../../sdk/assist-messages.js';
import { bytes, expectOneEncodingOrTypedError, refusal } from './support/assist-codec.js';

const SCREEN_SHARE = 13;
const SCREEN = 14;

/** A whole JPEG file as far as the codec checks: start-of-image, `middle`, end-of-image. */
function jpegOf(middle: Uint8Array): Uint8Array {
  const jpeg = new Uint8Array(middle.length + 4);
  jpeg.set([0xff, 0xd8]);
  jpeg.set(middle, 2);
  jpeg.set([0xff, 0xd9], middle.length + 2);
  return jpeg;
}

const dimension = fc.integer({ min: 1, max: MAX_SCREEN_DIMENSION });
const validMessage: fc.Arbitrary<AssistMessage> = fc.oneof(
  fc.constantFrom('started' as const, 'stopped' as const).map((state) => ({ type: 'screen-share' as const, state })),
  fc.constantFrom(...shareStopReasons).map((reason) => ({ type: 'screen-share' as const, state: 'stopped' as const, reason })),
  fc.record({ width: dimension, height: dimension, middle: fc.uint8Array({ maxLength: 300 }) }).map(({ width, height, middle }) => ({
    type: 'screen' as const,
    width,
    height,
    jpeg: jpegOf(middle),
  })),
);

const screenMessage = (width: number, height: number, jpeg: Uint8Array) => ({ type: 'screen' as const, width, height, jpeg });

describe('screen-sharing messages', () => {
  it('round-trips every valid share state and image, with the wire layout of the protocol', () => {
    fc.assert(
      fc.property(validMessage, (message) => {
        expect(decodeAssistMessage(encodeAssistMessage(message))).toEqual(message);
      }),
      { numRuns: 2000 },
    );
    expect(encodeAssistMessage({ type: 'screen-share', state: 'stopped' })).toEqual(bytes(1, SCREEN_SHARE, 0));
    expect(encodeAssistMessage({ type: 'screen-share', state: 'started' })).toEqual(bytes(1, SCREEN_SHARE, 1));
    // Why it stopped: an optional second byte, so a stop from a sender before reasons still parses.
    expect(encodeAssistMessage({ type: 'screen-share', state: 'stopped', reason: 'by-person' })).toEqual(bytes(1, SCREEN_SHARE, 0, 0));
    expect(encodeAssistMessage({ type: 'screen-share', state: 'stopped', reason: 'encoder-failed' })).toEqual(bytes(1, SCREEN_SHARE, 0, 3));
    expect(decodeAssistMessage(bytes(1, SCREEN_SHARE, 0, 1))).toEqual({ type: 'screen-share', state: 'stopped', reason: 'monitor-gone' });
    expect(decodeAssistMessage(bytes(1, SCREEN_SHARE, 0))).toEqual({ type: 'screen-share', state: 'stopped' });
    expect(encodeAssistMessage(screenMessage(1280, 720, jpegOf(bytes(7))))).toEqual(bytes(1, SCREEN, 0x05, 0x00, 0x02, 0xd0, 0xff, 0xd8, 7, 0xff, 0xd9));
  });

  it('parses arbitrary bodies of the screen types to the one message that encodes to them, or refuses them with a typed error', () => {
    const candidate = fc.oneof(
      fc.tuple(fc.constantFrom(SCREEN_SHARE, SCREEN), fc.uint8Array({ maxLength: 40 })).map(([type, body]) => bytes(1, type, ...body)),
      // Images with a plausible size and JPEG markers at either end, so the checks past the header get exercised.
      fc
        .tuple(fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.uint8Array({ maxLength: 20 }), fc.boolean(), fc.boolean())
        .map(([size, middle, start, end]) => bytes(1, SCREEN, ...size, ...(start ? [0xff, 0xd8] : []), ...middle, ...(end ? [0xff, 0xd9] : []))),
    );
    expectOneEncodingOrTypedError(candidate);
  });

  it('refuses each malformed screen message with its own code', () => {
    expect(refusal(() => decodeAssistMessage(bytes(1, SCREEN_SHARE)))).toBe('malformed'); // no state
    expect(refusal(() => decodeAssistMessage(bytes(1, SCREEN_SHARE, 1, 0)))).toBe('malformed');
    expect(refusal(() => decodeAssistMessage(bytes(1, SCREEN_SHARE, 2)))).toBe('out-of-range');
    expect(refusal(() => decodeAssistMessage(bytes(1, SCREEN_SHARE, 0, shareStopReasons.length)))).toBe('out-of-range'); // one past the last reason
    expect(refusal(() => decodeAssistMessage(bytes(1, SCREEN_SHARE, 0, 0, 0)))).toBe('malformed');
    expect(refusal(() => decodeAssistMessage(bytes(1, SCREEN, 0, 1, 0)))).toBe('malformed'); // size cut short
    expect(refusal(() => decodeAssistMessage(bytes(1, SCREEN, 0, 1, 0, 1)))).toBe('malformed'); // no image
    expect(refusal(() => decodeAssistMessage(bytes(1, SCREEN, 0, 0, 0, 1, 0xff, 0xd8, 0xff, 0xd9)))).toBe('out-of-range'); // 0 wide
    expect(refusal(() => decodeAssistMessage(bytes(1, SCREEN, 0x20, 0x01, 0, 1, 0xff, 0xd8, 0xff, 0xd9)))).toBe('out-of-range'); // 8193 wide
    expect(refusal(() => decodeAssistMessage(bytes(1, SCREEN, 0, 1, 0, 1, 0xff, 0xd8, 0xff, 0xd9)))).toBe('accepted');
    expect(refusal(() => decodeAssistMessage(bytes(1, SCREEN, 0, 1, 0, 1, 0x89, 0x50, 0x4e, 0x47)))).toBe('malformed'); // a PNG's signature
    expect(refusal(() => decodeAssistMessage(bytes(1, SCREEN, 0, 1, 0, 1, 0xff, 0xd8, 0xff)))).toBe('malformed'); // cut off before its end
  });

  it('says why a share stopped in a sentence, or that the person stopped it', () => {
    expect(shareStoppedSentence('Ada', 'desktop', undefined)).toBe('Ada stopped sharing their desktop.');
    expect(shareStoppedSentence('Ada', 'desktop', 'by-person')).toBe('Ada stopped sharing their desktop.');
    expect(shareStoppedSentence('Ada', 'desktop', 'monitor-gone')).toBe('Ada’s desktop share stopped: the monitor it showed was disconnected. They can share another one.');
  });

  it('bounds images before they are sent, in the words a caller can show', () => {
    const within = jpegOf(new Uint8Array(MAX_SCREEN_IMAGE_BYTES - 4));
    expect(refusal(() => encodeAssistMessage(screenMessage(MAX_SCREEN_DIMENSION, MAX_SCREEN_DIMENSION, within)))).toBe('accepted');
    expect(refusal(() => encodeAssistMessage(screenMessage(800, 600, jpegOf(new Uint8Array(MAX_SCREEN_IMAGE_BYTES - 3)))))).toBe('out-of-range');
    expect(refusal(() => encodeAssistMessage(screenMessage(800.5, 600, within)))).toBe('out-of-range');
    expect(refusal(() => encodeAssistMessage(screenMessage(800, MAX_SCREEN_DIMENSION + 1, within)))).toBe('out-of-range');
    expect(refusal(() => encodeAssistMessage(screenMessage(800, 600, new Uint8Array(0))))).toBe('malformed');
    expect(screenImageProblem({ width: 0, height: 600, jpeg: within })).toBe(`a screen image's width is a whole number of pixels from 1 to ${MAX_SCREEN_DIMENSION}`);
    expect(screenImageProblem({ width: 800, height: 600, jpeg: bytes(0xff, 0xd8, 0xff, 0xd8) })).toBe('a screen image must be a whole JPEG file');
    expect(screenImageProblem({ width: 800, height: 600, jpeg: within })).toBeUndefined();
  });
});
