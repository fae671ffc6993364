import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_SCREEN_DIMENSION } from '../../../sdk/assist-messages.js';
import { ImageBudget, MAX_IMAGE_HEIGHT, MAX_IMAGE_WIDTH, TARGET_IMAGE_BYTES } from '../../../web/src/screen-share.js';

// How the person's page sizes and compresses screen images: within the box, the shape kept, and
// adapted to what the last image weighed.

describe('ImageBudget', () => {
  it('fits any capture into the box, keeping its shape, never enlarging it', () => {
    const side = fc.integer({ min: 1, max: MAX_SCREEN_DIMENSION });
    fc.assert(
      fc.property(side, side, (width, height) => {
        const size = new ImageBudget().sizeFor(width, height);
        expect(size.width).toBeLessThanOrEqual(Math.min(width, MAX_IMAGE_WIDTH));
        expect(size.height).toBeLessThanOrEqual(Math.min(height, MAX_IMAGE_HEIGHT));
        // One factor for both sides (the shape is kept), each rounded to whole pixels, at least one.
        const factor = Math.min(1, MAX_IMAGE_WIDTH / width, MAX_IMAGE_HEIGHT / height);
        expect(Math.abs(size.width - width * factor)).toBeLessThan(1);
        expect(Math.abs(size.height - height * factor)).toBeLessThan(1);
        expect(Math.min(size.width, size.height)).toBeGreaterThanOrEqual(1);
      }),
    );
    expect(new ImageBudget().sizeFor(1920, 1080)).toEqual({ width: 1280, height: 720 });
    expect(new ImageBudget().sizeFor(800, 600)).toEqual({ width: 800, height: 600 });
  });

  it('lowers the quality for heavy images, then the size; raises the size back first, then the quality', () => {
    const budget = new ImageBudget();
    const steps: string[] = [];
    const step = (bytes: number) => {
      budget.encoded(bytes);
      steps.push(`${budget.quality} ${budget.sizeFor(1920, 1080).width}`);
    };
    for (let i = 0; i < 5; i++) step(TARGET_IMAGE_BYTES * 2);
    step(TARGET_IMAGE_BYTES * 0.8); // within the band: nothing changes
    for (let i = 0; i < 4; i++) step(TARGET_IMAGE_BYTES / 4);
    expect(steps).toEqual([
      '0.6 1280',
      '0.5 1280',
      '0.4 1280',
      '0.4 1024',
      '0.4 819',
      '0.4 819',
      '0.4 1024',
      '0.4 1280',
      '0.45 1280',
      '0.5 1280',
    ]);
  });

  it('stays within its bounds however the images weigh', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 4 * TARGET_IMAGE_BYTES }), { maxLength: 60 }), (weights) => {
        const budget = new ImageBudget();
        for (const bytes of weights) budget.encoded(bytes);
        expect(budget.quality).toBeGreaterThanOrEqual(0.4);
        expect(budget.quality).toBeLessThanOrEqual(0.85);
        const { width } = budget.sizeFor(1280, 720);
        expect(width).toBeGreaterThanOrEqual(Math.floor(1280 * 0.4));
        expect(width).toBeLessThanOrEqual(1280);
      }),
    );
  });
});
