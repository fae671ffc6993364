// The desktop-video messages' codec: configuration, encoded chunks, key-frame requests, cursor,
// codec lists, pointer and keys, ping and pong. Every valid one round-trips; every byte string with
// their type codes either parses to the one message that encodes to exactly those bytes or is
// refused with a typed error.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeAssistMessage, encodeAssistMessage, MAX_VIDEO_CHUNK_BYTES, type AssistMessage } from '../../../sdk/assist-messages.js';
import { bytes, expectOneEncodingOrTypedError, refusal } from './support/assist-codec.js';

const VIDEO_CONFIG = 15;
const VIDEO_CHUNK = 16;
const KEY_FRAME_REQUEST = 17;
const CURSOR = 18;
const VIDEO_CODECS = 19;
const POINTER = 20;
const KEY = 21;
const PING = 22;
const PONG = 23;
const CURSOR_SHAPE = 24;

const coordinate = fc.integer({ min: 0, max: 8191 });
const dimension = fc.integer({ min: 1, max: 8192 });
const token = fc.stringMatching(/^[a-z0-9.]{1,20}$/);
const delta = fc.integer({ min: -32767, max: 32767 });
const button = fc.constantFrom('left' as const, 'middle' as const, 'right' as const);

const validMessage: fc.Arbitrary<AssistMessage> = fc.oneof(
  fc.record({ source: fc.constantFrom('desktop' as const, 'screen' as const), codec: token, width: dimension, height: dimension, controllable: fc.boolean() }).map((config) => ({ type: 'video-config' as const, ...config })),
  fc.record({ key: fc.boolean(), timestamp: fc.maxSafeNat(), data: fc.uint8Array({ minLength: 1, maxLength: 200 }) }).map((chunk) => ({ type: 'video-chunk' as const, ...chunk })),
  fc.constant({ type: 'key-frame-request' as const }),
  fc.record({ x: coordinate, y: coordinate, visible: fc.boolean() }).map((cursor) => ({ type: 'cursor' as const, ...cursor })),
  fc.array(token, { minLength: 1, maxLength: 8 }).map((codecs) => ({ type: 'video-codecs' as const, codecs })),
  fc.record({ x: coordinate, y: coordinate }).map((at) => ({ type: 'pointer' as const, action: 'move' as const, ...at })),
  fc.record({ x: coordinate, y: coordinate, button, action: fc.constantFrom('down' as const, 'up' as const) }).map((press) => ({ type: 'pointer' as const, ...press })),
  fc.record({ x: coordinate, y: coordinate, deltaX: delta, deltaY: delta }).map((wheel) => ({ type: 'pointer' as const, action: 'wheel' as const, ...wheel })),
  fc
    .record({ action: fc.constantFrom('down' as const, 'up' as const), code: fc.stringMatching(/^[A-Za-z0-9]{1,32}$/), text: fc.constantFrom('', 'a', 'é', 'ß', '€', '日') })
    .map((key) => ({ type: 'key' as const, ...key })),
  fc.nat({ max: 0xffff_ffff }).map((id) => ({ type: 'ping' as const, id })),
  fc.nat({ max: 0xffff_ffff }).map((id) => ({ type: 'pong' as const, id })),
  fc.nat({ max: 0xffff }).map((id) => ({ type: 'cursor-shape' as const, id })),
  fc
    .record({ id: fc.nat({ max: 0xffff }), width: fc.integer({ min: 1, max: 16 }), height: fc.integer({ min: 1, max: 16 }), hot: fc.tuple(fc.nat(), fc.nat()), seed: fc.nat({ max: 255 }) })
    .map(({ id, width, height, hot: [x, y], seed }) => ({
      type: 'cursor-shape' as const,
      id,
      shape: { width, height, hotX: x % width, hotY: y % height, rgba: new Uint8Array(width * height * 4).map((_, index) => (index * 31 + seed) & 0xff) },
    })),
);

describe('desktop-video messages', () => {
  it('round-trips every valid message, with the wire layout of the protocol', () => {
    fc.assert(
      fc.property(validMessage, (message) => {
        expect(decodeAssistMessage(encodeAssistMessage(message))).toEqual(message);
      }),
      { numRuns: 3000 },
    );
    expect(encodeAssistMessage({ type: 'video-config', source: 'desktop', controllable: true, codec: 'vp8', width: 1280, height: 720 })).toEqual(
      bytes(1, VIDEO_CONFIG, 0, 1, 0x05, 0x00, 0x02, 0xd0, 0x76, 0x70, 0x38),
    );
    expect(encodeAssistMessage({ type: 'video-chunk', key: true, timestamp: 1, data: bytes(9) })).toEqual(bytes(1, VIDEO_CHUNK, 1, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0, 9));
    expect(encodeAssistMessage({ type: 'key-frame-request' })).toEqual(bytes(1, KEY_FRAME_REQUEST));
    expect(encodeAssistMessage({ type: 'cursor', visible: true, x: 258, y: 3 })).toEqual(bytes(1, CURSOR, 1, 1, 2, 0, 3));
    expect(encodeAssistMessage({ type: 'video-codecs', codecs: ['vp8', 'avc1.640028'] })).toEqual(bytes(1, VIDEO_CODECS, ...new TextEncoder().encode('vp8,avc1.640028')));
    expect(encodeAssistMessage({ type: 'pointer', action: 'down', button: 'right', x: 1, y: 2 })).toEqual(bytes(1, POINTER, 1, 2, 0, 1, 0, 2, 0, 0, 0, 0));
    expect(encodeAssistMessage({ type: 'pointer', action: 'wheel', x: 0, y: 0, deltaX: -1, deltaY: 120 })).toEqual(bytes(1, POINTER, 3, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 120));
    expect(encodeAssistMessage({ type: 'key', action: 'up', code: 'KeyA', text: 'a' })).toEqual(bytes(1, KEY, 1, 4, 0x4b, 0x65, 0x79, 0x41, 0x61));
    expect(encodeAssistMessage({ type: 'ping', id: 0x01020304 })).toEqual(bytes(1, PING, 1, 2, 3, 4));
    expect(encodeAssistMessage({ type: 'pong', id: 7 })).toEqual(bytes(1, PONG, 0, 0, 0, 7));
    expect(encodeAssistMessage({ type: 'cursor-shape', id: 258 })).toEqual(bytes(1, CURSOR_SHAPE, 1, 2));
    expect(encodeAssistMessage({ type: 'cursor-shape', id: 1, shape: { width: 1, height: 2, hotX: 0, hotY: 1, rgba: bytes(1, 2, 3, 4, 5, 6, 7, 8) } })).toEqual(
      bytes(1, CURSOR_SHAPE, 0, 1, 1, 2, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8),
    );
  });

  it('parses arbitrary bodies of the video types to the one message that encodes to them, or refuses them with a typed error', () => {
    const type = fc.constantFrom(VIDEO_CONFIG, VIDEO_CHUNK, KEY_FRAME_REQUEST, CURSOR, VIDEO_CODECS, POINTER, KEY, PING, PONG, CURSOR_SHAPE);
    expectOneEncodingOrTypedError(
      fc.oneof(
        fc.tuple(type, fc.uint8Array({ maxLength: 24 })).map(([code, body]) => bytes(1, code, ...body)),
        // Mostly-valid shapes, so the checks past the header get exercised: small flags, short ASCII.
        fc.tuple(type, fc.array(fc.oneof(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0x41, max: 0x7a })), { maxLength: 16 })).map(([code, body]) => bytes(1, code, ...body)),
        // Cursor shapes of a few pixels, with the size right or off by a little.
        fc
          .tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 }), fc.integer({ min: -1, max: 1 }))
          .map(([width, height, hotX, hotY, off]) => bytes(1, CURSOR_SHAPE, 0, 7, width, height, hotX, hotY, ...new Uint8Array(Math.max(0, width * height * 4 + off)))),
      ),
    );
  });

  it('refuses values outside their ranges with a typed error, on the way out and on the way in', () => {
    const config = { type: 'video-config' as const, source: 'desktop' as const, controllable: true, codec: 'vp8', width: 1280, height: 720 };
    expect(refusal(() => encodeAssistMessage({ ...config, width: 0 }))).toBe('out-of-range');
    expect(refusal(() => encodeAssistMessage({ ...config, codec: 'vp8,vp9' }))).toBe('out-of-range');
    expect(refusal(() => encodeAssistMessage({ ...config, codec: 'vp 8' }))).toBe('out-of-range');
    expect(refusal(() => encodeAssistMessage({ type: 'video-chunk', key: true, timestamp: 0, data: new Uint8Array(0) }))).toBe('out-of-range');
    expect(refusal(() => encodeAssistMessage({ type: 'video-chunk', key: true, timestamp: 0, data: new Uint8Array(MAX_VIDEO_CHUNK_BYTES + 1) }))).toBe('out-of-range');
    expect(refusal(() => encodeAssistMessage({ type: 'video-chunk', key: false, timestamp: 0.5, data: bytes(1) }))).toBe('out-of-range');
    expect(refusal(() => encodeAssistMessage({ type: 'video-codecs', codecs: [] }))).toBe('out-of-range');
    expect(refusal(() => encodeAssistMessage({ type: 'pointer', action: 'move', x: 8192, y: 0 }))).toBe('out-of-range');
    expect(refusal(() => encodeAssistMessage({ type: 'key', action: 'down', code: 'Enter', text: '\r' }))).toBe('invalid-text');
    expect(refusal(() => encodeAssistMessage({ type: 'key', action: 'down', code: 'KeyA', text: '\u202e' }))).toBe('invalid-text');
    // On the way in: a flag that is neither 0 nor 1, a move carrying a button, a NaN timestamp, a trailing comma.
    expect(refusal(() => decodeAssistMessage(bytes(1, CURSOR, 2, 0, 0, 0, 0)))).toBe('out-of-range');
    expect(refusal(() => decodeAssistMessage(bytes(1, POINTER, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0)))).toBe('malformed');
    expect(refusal(() => decodeAssistMessage(bytes(1, VIDEO_CHUNK, 1, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0, 9)))).toBe('out-of-range');
    expect(refusal(() => decodeAssistMessage(bytes(1, VIDEO_CODECS, 0x76, 0x70, 0x38, 0x2c)))).toBe('out-of-range');
    expect(refusal(() => decodeAssistMessage(bytes(1, KEY, 0, 9, 0x41)))).toBe('malformed');
    // Cursor shapes: an id cut short, a size without its hot spot, pixels that do not fill the size, a hot spot outside it, too large.
    expect(refusal(() => decodeAssistMessage(bytes(1, CURSOR_SHAPE, 0)))).toBe('malformed');
    expect(refusal(() => decodeAssistMessage(bytes(1, CURSOR_SHAPE, 0, 0, 1, 1)))).toBe('malformed');
    expect(refusal(() => decodeAssistMessage(bytes(1, CURSOR_SHAPE, 0, 0, 1, 1, 0, 0, 1, 2, 3)))).toBe('malformed');
    expect(refusal(() => decodeAssistMessage(bytes(1, CURSOR_SHAPE, 0, 0, 1, 1, 1, 0, 1, 2, 3, 4)))).toBe('out-of-range');
    expect(refusal(() => decodeAssistMessage(bytes(1, CURSOR_SHAPE, 0, 0, 0, 1, 0, 0)))).toBe('out-of-range');
    const big = { width: 65, height: 1, hotX: 0, hotY: 0, rgba: new Uint8Array(65 * 4) };
    expect(refusal(() => encodeAssistMessage({ type: 'cursor-shape', id: 0, shape: big }))).toBe('out-of-range');
    expect(refusal(() => encodeAssistMessage({ type: 'cursor-shape', id: 0x10000 }))).toBe('out-of-range');
  });
});
