// The pointer's shape: X11's premultiplied image made into the protocol's RGBA, large cursors
// scaled down, and the shapes both sides remember (the sender's ids are always ones the receiver
// still has, however many shapes come and go); an id the person's side never defined ends the session.
import { describe, expect, it } from 'vitest';
import { cursorShapeOf } from '../../../cli/desktop/cursor.js';
import { MAX_CURSOR_SHAPES } from '../../../sdk/assist-messages.js';
import { CursorShapeCache } from '../../../sdk/cursor-shapes.js';
import { until, useCleanups } from '../../support/harness.js';
import { decidingPair, sendRaw } from '../sdk/support/assist-pair.js';

const defer = useCleanups();

describe('the pointer’s shape', () => {
  it('turns X11’s premultiplied blue-green-red-alpha into straight RGBA', () => {
    const shape = cursorShapeOf({ serial: 1, width: 2, height: 1, hotX: 1, hotY: 0, premultipliedBgra: Uint8Array.of(0, 0, 128, 128, 10, 20, 30, 255) });
    expect(shape).toEqual({ width: 2, height: 1, hotX: 1, hotY: 0, rgba: Uint8Array.of(255, 0, 0, 128, 30, 20, 10, 255) });
    expect(cursorShapeOf({ serial: 1, width: 0, height: 0, hotX: 0, hotY: 0, premultipliedBgra: new Uint8Array(0) })).toBeUndefined();
  });

  it('scales a cursor larger than 64 pixels down to fit, hot spot too', () => {
    const premultipliedBgra = new Uint8Array(128 * 96 * 4).fill(255);
    const shape = cursorShapeOf({ serial: 1, width: 128, height: 96, hotX: 127, hotY: 10, premultipliedBgra })!;
    expect([shape.width, shape.height, shape.hotX, shape.hotY, shape.rgba.length]).toEqual([64, 48, 63, 5, 64 * 48 * 4]);
  });

  it('keeps the last 32 defined on both sides, forgetting the one defined longest ago', () => {
    const cache = new CursorShapeCache<string>();
    for (let id = 0; id <= MAX_CURSOR_SHAPES; id++) cache.define(id, `shape ${id}`);
    expect(cache.get(0)).toBeUndefined();
    expect(cache.get(1)).toBe('shape 1');
    expect(cache.find((value) => value === 'shape 32')).toBe(32);
    cache.define(1, 'shape 1 again'); // defined again: now the newest
    cache.define(33, 'shape 33');
    expect(cache.get(1)).toBe('shape 1 again');
    expect(cache.get(2)).toBeUndefined();
  });

  it('an id the person’s side never defined breaks the protocol: the technician’s side ends the session', async () => {
    const { agent, expert, agentClient } = await decidingPair(defer);
    const errors: Error[] = [];
    expert.on('error', (error) => errors.push(error));
    await agent.approve('view');
    await agent.startVideoShare({ source: 'desktop', codec: 'vp8', width: 64, height: 64, controllable: true });
    await until(() => expert.video !== undefined, 'the share');
    await sendRaw(agentClient, { type: 'cursor-shape', id: 5 });
    await until(() => expert.phase === 'ended', 'the end');
    expect(errors.map((error) => error.message)).toEqual(['the other side broke the assistance protocol: cursor shape 5, which it never defined or which was forgotten']);
  });
});
