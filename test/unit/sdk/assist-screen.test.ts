// Screen sharing over the in-process relay (the real handlers on memory adapters): the agent's side sends images only once approved, only
// between a share's start and stop, never while paused, and one at a time (the next only once
// everything before is acknowledged); the expert's side refuses images the agent's rules forbid.
import { describe, expect, it } from 'vitest';
import type { ScreenImage } from '../../../sdk/assist-messages.js';
import type { ExpertSession } from '../../../sdk/assist-session.js';
import { useCleanups, Watch } from '../../support/harness.js';
import { decidingPair, sendRaw } from './support/assist-pair.js';

const defer = useCleanups();
/**
 * Woken by every event of the pair's sessions and clients and every frame their streams processed (decidingPair):
 * the waits below check again then, an acknowledgement (readyForScreenImage) included.
 */
const heard = new Watch();

/** A JPEG as far as the protocol checks, its middle byte telling images apart. */
const image = (marker: number): ScreenImage => ({ width: 640, height: 400, jpeg: Uint8Array.of(0xff, 0xd8, marker, 0xff, 0xd9) });

/** What the expert's side saw of the share, in order: `started`, `image <marker>`, `paused`… */
function watchScreen(expert: ExpertSession) {
  const seen = { log: [] as string[], errors: [] as Error[], ended: false };
  expert.on('screen-share', ({ state }) => seen.log.push(state));
  expert.on('screen', ({ width, height, jpeg }) => seen.log.push(`image ${jpeg[2]} ${width}x${height}`));
  expert.on('paused', () => seen.log.push('paused'));
  expert.on('resumed', () => seen.log.push('resumed'));
  expert.on('error', (error) => seen.errors.push(error));
  expert.on('ended', () => (seen.ended = true));
  return seen;
}

async function deciding() {
  const pair = await decidingPair(defer, heard);
  return { ...pair, seen: watchScreen(pair.expert) };
}

async function sharing() {
  const pair = await deciding();
  await pair.agent.approve('view');
  await pair.agent.startScreenShare();
  await heard.until(() => pair.expert.screenShared, 'the share to start');
  return pair;
}

describe('screen sharing', () => {
  it('nothing before approval; once approved (view only is enough), a share starts and its images reach the expert', async () => {
    const { agent, expert, seen } = await deciding();
    await expect(agent.startScreenShare()).rejects.toThrow('cannot share the screen now: the session is deciding, not active');
    expect(agent.readyForScreenImage).toBe(false);
    expect(await agent.sendScreen(image(1))).toBe(false);

    await agent.approve('view');
    expect(await agent.sendScreen(image(2))).toBe(false); // approved, but not sharing
    await agent.startScreenShare();
    expect(agent.sharingScreen).toBe(true);
    await heard.until(() => agent.readyForScreenImage, 'the start to be acknowledged');
    expect(await agent.sendScreen(image(3))).toBe(true);
    await heard.until(() => seen.log.includes('image 3 640x400'), 'the image');
    expect(seen.log).toEqual(['started', 'image 3 640x400']);
    expect(expert.screenShared).toBe(true);
  });

  it('sends one image at a time: an image while the last is unacknowledged is dropped, not queued', async () => {
    const { agent, seen } = await sharing();
    await heard.until(() => agent.readyForScreenImage, 'the start to be acknowledged');
    const [first, second] = await Promise.all([agent.sendScreen(image(1)), agent.sendScreen(image(2))]);
    expect([first, second]).toEqual([true, false]);
    await heard.until(() => agent.readyForScreenImage, 'the first image to be acknowledged');
    expect(await agent.sendScreen(image(3))).toBe(true);
    await heard.until(() => seen.log.includes('image 3 640x400'), 'the third image');
    expect(seen.log).toEqual(['started', 'image 1 640x400', 'image 3 640x400']);
  });

  it('while paused, images are dropped; they flow again after resume, and stop after the share stops', async () => {
    const { agent, expert, seen, relay } = await sharing();
    await agent.pause();
    expect(agent.readyForScreenImage).toBe(false);
    expect(await agent.sendScreen(image(1))).toBe(false);
    await heard.until(() => expert.paused, 'the pause');

    await agent.resume();
    await heard.until(() => agent.readyForScreenImage, 'the resume to be acknowledged');
    expect(await agent.sendScreen(image(2))).toBe(true);
    await agent.stopScreenShare();
    expect(agent.sharingScreen).toBe(false);
    expect(await agent.sendScreen(image(3))).toBe(false);
    await heard.until(() => !expert.screenShared, 'the stop');
    expect(seen.log).toEqual(['started', 'paused', 'resumed', 'image 2 640x400', 'stopped']);
    expect(seen.errors).toEqual([]);
    // The audit log keeps that a share happened, never what it showed.
    expect((await relay.audit()).map((entry) => entry.event)).toEqual(
      expect.arrayContaining(['screen-share-started', 'paused', 'resumed', 'screen-share-stopped']),
    );
  });

  it('refuses to send what is not a JPEG within the limits', async () => {
    const { agent } = await sharing();
    await expect(agent.sendScreen({ width: 640, height: 400, jpeg: Uint8Array.of(0x89, 0x50, 0x4e, 0x47) })).rejects.toThrow(RangeError);
    await expect(agent.sendScreen({ ...image(1), width: 0 })).rejects.toThrow('width is a whole number of pixels');
  });

  it('an image outside a share breaks the protocol: the expert’s side ends the session', async () => {
    const { agent, agentClient, seen } = await deciding();
    await agent.approve('view');
    await sendRaw(agentClient, { type: 'screen', ...image(1) });
    await heard.until(() => seen.ended, 'the end');
    expect(seen.errors.map((error) => error.message)).toEqual(['the other side broke the assistance protocol: a screen image outside a share']);
    expect(seen.log).toEqual([]);
  });

  it('an image while paused breaks the protocol: the expert’s side ends the session', async () => {
    const { agent, agentClient, seen } = await sharing();
    await agent.pause();
    await sendRaw(agentClient, { type: 'screen', ...image(1) });
    await heard.until(() => seen.ended, 'the end');
    expect(seen.errors.map((error) => error.message)).toEqual(['the other side broke the assistance protocol: a screen image while paused']);
    expect(seen.log).toEqual(['started', 'paused']);
  });

  it('a share started twice, or an image from the expert, breaks the protocol', async () => {
    const started = await sharing();
    await sendRaw(started.agentClient, { type: 'screen-share', state: 'started' });
    await heard.until(() => started.seen.ended, 'the expert’s end');
    expect(started.seen.errors.map((error) => error.message)).toEqual(['the other side broke the assistance protocol: a screen share started twice']);

    const { agent, expertClient } = await sharing();
    const agentErrors: Error[] = [];
    agent.on('error', (error) => agentErrors.push(error));
    await sendRaw(expertClient, { type: 'screen', ...image(1) });
    await heard.until(() => agent.phase === 'ended', 'the agent’s end');
    expect(agent.sharingScreen).toBe(false);
    expect(agentErrors.map((error) => error.message)).toEqual(['the other side broke the assistance protocol: the expert may not send screen']);
  });
});
