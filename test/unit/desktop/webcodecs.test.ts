// The real encoder (@napi-rs/webcodecs, no display needed): two frames of a known colour encoded as
// the desktop share encodes them, decoded back with the same package's VideoDecoder, as a
// browser would from the codec string alone (H.264 in Annex B: a video-config has no description).
import { describe, expect, it } from 'vitest';
import { loadWebCodecs, webCodecsEncoders } from '../../../cli/desktop/native.js';
import type { RawFrame } from '../../../cli/desktop/ports.js';
import { picture } from './fakes.js';

interface DecodedFrame {
  codedWidth: number;
  codedHeight: number;
  allocationSize(options: { format: 'RGBA' }): number;
  copyTo(destination: Uint8Array, options: { format: 'RGBA' }): Promise<unknown>;
  close(): void;
}

async function roundTrip(codec: string, format: RawFrame['format']) {
  const open = webCodecsEncoders();
  // Frames larger than the encoded size are scaled by the encoder, as a monitor is.
  const encoder = await open({ codec, width: 64, height: 48, bitrate: 500_000, framerate: 15 });
  const chunks = [await encoder.encode(picture(200, 128, 96, format), 0, true), await encoder.encode(picture(60, 128, 96, format), 66_000, false)];
  encoder.close();

  const { VideoDecoder, EncodedVideoChunk } = loadWebCodecs() as unknown as {
    VideoDecoder: new (init: { output(frame: DecodedFrame): void; error(error: Error): void }) => { configure(config: object): void; decode(chunk: object): void; flush(): Promise<void>; close(): void };
    EncodedVideoChunk: new (init: { type: 'key' | 'delta'; timestamp: number; data: Uint8Array }) => object;
  };
  const decoded: Array<{ width: number; height: number; rgba: Uint8Array }> = [];
  const copies: Promise<unknown>[] = [];
  const decoder = new VideoDecoder({
    output(frame) {
      const rgba = new Uint8Array(frame.allocationSize({ format: 'RGBA' }));
      // Copies finish in any order: each frame keeps its place.
      decoded.push({ width: frame.codedWidth, height: frame.codedHeight, rgba });
      copies.push(frame.copyTo(rgba, { format: 'RGBA' }).finally(() => frame.close()));
    },
    error(error) {
      throw error;
    },
  });
  decoder.configure({ codec });
  chunks.forEach((chunk, index) => decoder.decode(new EncodedVideoChunk({ type: chunk.key ? 'key' : 'delta', timestamp: index * 66_000, data: chunk.data })));
  await decoder.flush();
  await Promise.all(copies);
  decoder.close();
  return { chunks, decoded };
}

describe('the WebCodecs encoder', () => {
  it.each([
    ['vp8', 'RGBA'],
    ['avc1.640028', 'RGBA'],
    ['vp8', 'BGRX'],
    ['avc1.640028', 'BGRX'],
  ] as const)('%s from %s pictures: a key frame then a delta frame that decode back to their colours, at the encoded size', async (codec, format) => {
    const { chunks, decoded } = await roundTrip(codec, format);
    expect(chunks.map((chunk) => chunk.key)).toEqual([true, false]);
    expect(decoded.map(({ width, height }) => `${width}x${height}`)).toEqual(['64x48', '64x48']);
    // Through 4:2:0 YUV and back, a colour comes back within a few steps.
    const middle = (rgba: Uint8Array) => [...rgba.subarray((24 * 64 + 32) * 4, (24 * 64 + 32) * 4 + 3)];
    for (const [frame, red] of [[decoded[0]!, 200], [decoded[1]!, 60]] as const) {
      const [r, g, b] = middle(frame.rgba);
      expect(Math.abs(r! - red)).toBeLessThanOrEqual(8);
      expect(g).toBeLessThanOrEqual(8);
      expect(b).toBeLessThanOrEqual(8);
    }
  });

  it('refuses a configuration it cannot take with a DesktopError naming it', async () => {
    await expect(webCodecsEncoders()({ codec: 'not-a-codec', width: 64, height: 48, bitrate: 500_000, framerate: 15 })).rejects.toMatchObject({
      code: 'encoder-refused',
      message: expect.stringContaining('the not-a-codec encoder refused 64×48'),
    });
  });
});
