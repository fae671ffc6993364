import { describe, expect, it } from 'vitest';
import { encodedSize } from '../../../web/src/screen-share.js';
import { VIDEO_CODECS } from '../../../sdk/video-pacing.js';
import { encoderConfig, supportedInOrder } from '../../../web/src/video-codecs.js';

// The video both pages agree on: which codec, at what size, and how fast the person's page sends.

describe('codec preference', () => {
  it('offers H.264 first (far cheaper for the assist command to encode), then VP8; never VP9 (too slow to encode)', () => {
    expect(VIDEO_CODECS).toEqual(['avc1.640028', 'vp8']);
  });

  it('keeps the preference order, whatever order the browser answers in, and drops what it refuses or fails on', async () => {
    const answers: Record<string, () => Promise<boolean>> = {
      vp8: () => new Promise((resolve) => setTimeout(() => resolve(true), 5)),
      'avc1.640028': async () => true,
      'vp09.00.10.08': async () => false,
      av01: () => Promise.reject(new TypeError('unknown codec')),
    };
    expect(await supportedInOrder(['vp8', 'avc1.640028'], (codec) => answers[codec]!())).toEqual(['vp8', 'avc1.640028']);
    expect(await supportedInOrder(['vp09.00.10.08', 'av01', 'avc1.640028'], (codec) => answers[codec]!())).toEqual(['avc1.640028']);
    expect(await supportedInOrder([], () => Promise.resolve(true))).toEqual([]);
  });

  it('configures a real-time encoder; H.264 in Annex B, since the protocol carries no decoder description', () => {
    expect(encoderConfig('vp8', 1920, 1080)).toEqual({ codec: 'vp8', width: 1920, height: 1080, bitrate: 1_500_000, latencyMode: 'realtime' });
    expect(encoderConfig('avc1.640028', 1280, 720)).toMatchObject({ avc: { format: 'annexb' }, bitrate: 666_667 });
    expect(encoderConfig('vp8', 320, 200).bitrate).toBe(300_000);
  });
});

describe('encodedSize', () => {
  it('keeps captures up to 1920 × 1200 as they are (rounded to even sides) and scales larger ones down, keeping the shape', () => {
    expect(encodedSize(1280, 800)).toEqual({ width: 1280, height: 800 });
    expect(encodedSize(1279, 801)).toEqual({ width: 1280, height: 802 });
    expect(encodedSize(3840, 2400)).toEqual({ width: 1920, height: 1200 });
    const portrait = encodedSize(2160, 3840);
    expect(portrait.width * portrait.height).toBeLessThanOrEqual(1920 * 1200 * 1.01);
    expect(portrait.width / portrait.height).toBeCloseTo(2160 / 3840, 2);
    expect(encodedSize(1, 1)).toEqual({ width: 2, height: 2 });
  });
});
