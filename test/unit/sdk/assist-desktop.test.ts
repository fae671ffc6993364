// Desktop video and control over the in-process relay (the real handlers on memory adapters): the agent's side sends video only once approved,
// during a configured share and never while paused, restarts the picture with a key frame whenever
// the expert could not follow (start, request, resume, a dropped chunk), and applies the expert's
// mouse and keys only with control, not paused, in a controllable share, inside the picture —
// dropping and counting everything else. The expert's side refuses video the agent's rules forbid.
import { describe, expect, it } from 'vitest';
import type { KeyInput, PointerInput, VideoConfig } from '../../../sdk/assist-messages.js';
import type { AgentSession, ExpertSession } from '../../../sdk/assist-session.js';
import { useCleanups, Watch } from '../../support/harness.js';
import { decidingPair, sendRaw } from './support/assist-pair.js';

const defer = useCleanups();
/** Woken by every event of the pair's sessions and clients (decidingPair): the waits below check again then. */
const heard = new Watch();
const desktop: VideoConfig = { source: 'desktop', codec: 'vp8', width: 1280, height: 720, controllable: true };
const chunk = (key: boolean, marker: number) => ({ key, timestamp: marker * 1000, data: Uint8Array.of(marker) });
const click: PointerInput = { action: 'down', button: 'left', x: 10, y: 20 };
const keyA: KeyInput = { action: 'down', code: 'KeyA', text: 'a' };

/** What each side saw, in order. */
function watch(agent: AgentSession, expert: ExpertSession) {
  const seen = { expert: [] as string[], agent: [] as string[], errors: [] as string[], ended: false, endReason: undefined as string | undefined };
  expert.on('video-config', ({ source, codec, width, height }) => seen.expert.push(`config ${source} ${codec} ${width}x${height}`));
  expert.on('video-chunk', ({ key, data }) => seen.expert.push(`${key ? 'key' : 'delta'} ${data[0]}`));
  expert.on('cursor', ({ x, y, visible }) => seen.expert.push(`cursor ${x},${y}${visible ? '' : ' hidden'}`));
  expert.on('screen-share', ({ state }) => seen.expert.push(state));
  expert.on('error', (error) => seen.errors.push(error.message));
  expert.on('ended', ({ reason }) => {
    seen.ended = true;
    seen.endReason = reason;
  });
  agent.on('pointer', (pointer) => seen.agent.push(`pointer ${pointer.action} ${pointer.x},${pointer.y}`));
  agent.on('key', (key) => seen.agent.push(`key ${key.action} ${key.code} ${key.text}`));
  agent.on('input-dropped', ({ type, why }) => seen.agent.push(`dropped ${type}: ${why}`));
  agent.on('key-frame-requested', () => seen.agent.push('key frame requested'));
  agent.on('video-codecs', (codecs) => seen.agent.push(`codecs ${codecs.join(' ')}`));
  return seen;
}

async function deciding() {
  const pair = await decidingPair(defer, heard);
  return { ...pair, seen: watch(pair.agent, pair.expert) };
}

async function sharingDesktop(mode: 'view' | 'control' = 'control') {
  const pair = await deciding();
  await pair.agent.approve(mode);
  await pair.agent.startVideoShare(desktop);
  await heard.until(() => pair.expert.video !== undefined, 'the configuration');
  return pair;
}

describe('desktop video', () => {
  it('nothing before approval; a share starts with its configuration and a key frame; deltas follow', async () => {
    const { agent, expert, seen, relay } = await deciding();
    await expect(agent.startVideoShare(desktop)).rejects.toThrow('cannot share video now: the session is deciding, not active');
    expect(agent.readyForVideo).toBe(false);
    expect(await agent.sendVideoChunk(chunk(true, 1))).toBe(false);
    expect(await agent.sendCursor({ x: 1, y: 1, visible: true })).toBe(false);

    await agent.approve('view');
    await agent.startVideoShare(desktop);
    expect(agent.keyFrameNeeded).toBe(true);
    expect(await agent.sendVideoChunk(chunk(false, 2))).toBe(false); // a delta cannot start a picture
    expect(await agent.sendVideoChunk(chunk(true, 3))).toBe(true);
    expect(agent.keyFrameNeeded).toBe(false);
    expect(await agent.sendVideoChunk(chunk(false, 4))).toBe(true);
    expect(await agent.sendCursor({ x: 5, y: 6, visible: true })).toBe(true);
    await heard.until(() => seen.expert.length === 5, 'the share');
    expect(seen.expert).toEqual(['started', 'config desktop vp8 1280x720', 'key 3', 'delta 4', 'cursor 5,6']);
    expect(expert.video).toEqual(desktop);
    await agent.stopScreenShare();
    await heard.until(() => expert.video === undefined, 'the stop');
    expect((await relay.audit()).map((entry) => entry.event)).toEqual(expect.arrayContaining(['desktop-share-started', 'desktop-share-stopped']));
    expect((await relay.audit()).map((entry) => entry.event)).not.toContain('screen-share-started');
    expect(seen.errors).toEqual([]);
  });

  it('a pause drops video and the next chunk after resume must be a key frame; a key-frame request does the same', async () => {
    const { agent, expert, seen } = await sharingDesktop();
    expect(await agent.sendVideoChunk(chunk(true, 1))).toBe(true);
    await agent.pause();
    expect(agent.readyForVideo).toBe(false);
    expect(await agent.sendVideoChunk(chunk(false, 2))).toBe(false);
    await agent.resume();
    expect(agent.keyFrameNeeded).toBe(true);
    expect(await agent.sendVideoChunk(chunk(false, 3))).toBe(false);
    expect(await agent.sendVideoChunk(chunk(true, 4))).toBe(true);

    await expert.requestKeyFrame();
    await heard.until(() => agent.keyFrameNeeded, 'the request');
    expect(await agent.sendVideoChunk(chunk(true, 5))).toBe(true);
    await heard.until(() => seen.expert.includes('key 5'), 'the key frame');
    expect(seen.expert).toEqual(['started', 'config desktop vp8 1280x720', 'key 1', 'key 4', 'key 5']);
    expect(seen.agent).toEqual(['key frame requested']);
  });

  it('the expert’s mouse and keys reach the agent only with control, not paused, in a controllable share, inside the picture', async () => {
    const { agent, expert, expertClient, seen } = await sharingDesktop('view');
    /** Each step waits until the agent's side handled what the expert sent, before the person changes anything. */
    const handled = (count: number) => heard.until(() => seen.agent.length === count, `${count} inputs handled`);
    expect(expert.mayControlDesktop).toBe(false);
    expect(await expert.sendPointer(click)).toBe(false); // the expert's side does not even send
    await sendRaw(expertClient, { type: 'pointer', ...click }); // a side that ignores the rules
    await handled(1);
    await agent.grantControl();
    await heard.until(() => expert.mayControlDesktop, 'control');
    expect(await expert.sendPointer(click)).toBe(true);
    expect(await expert.sendKey(keyA)).toBe(true);
    await sendRaw(expertClient, { type: 'pointer', action: 'move', x: 1280, y: 0 }); // off the picture
    await handled(4);
    await agent.pause();
    await sendRaw(expertClient, { type: 'key', ...keyA });
    await handled(5);
    await agent.resume();
    await agent.revokeControl();
    await sendRaw(expertClient, { type: 'key', ...keyA });
    await handled(6);
    expect(agent.droppedInputEvents).toBe(4);
    expect(seen.agent).toEqual([
      'dropped pointer: control is not granted',
      'pointer down 10,20',
      'key down KeyA a',
      'dropped pointer: the pointer is outside the shared screen',
      'dropped key: the session is paused',
      'dropped key: control is not granted',
    ]);
  });

  it('a browser share (not controllable) never lets mouse or keys through, even with control', async () => {
    const { agent, expert, expertClient, seen } = await deciding();
    await agent.approve('control');
    await agent.startVideoShare({ ...desktop, source: 'screen', controllable: false });
    await heard.until(() => expert.video !== undefined, 'the configuration');
    expect(expert.hasControl).toBe(true);
    expect(expert.mayControlDesktop).toBe(false);
    expect(await expert.sendKey(keyA)).toBe(false);
    await sendRaw(expertClient, { type: 'key', ...keyA });
    await heard.until(() => agent.droppedInputEvents === 1, 'the drop');
    expect(seen.agent).toEqual(['dropped key: no desktop is shared']);
  });

  it('the expert lists its codecs; the round trip is measured through the agent’s side', async () => {
    const { agent, expert, seen } = await sharingDesktop();
    await expert.sendVideoCodecs(['avc1.640028', 'vp8']);
    await heard.until(() => agent.expertCodecs !== undefined, 'the codecs');
    expect(agent.expertCodecs).toEqual(['avc1.640028', 'vp8']);
    expect(seen.agent).toEqual(['codecs avc1.640028 vp8']);
    expect(await expert.measureRoundTrip()).toBeGreaterThan(0);
  });

  it('video outside the rules breaks the protocol: the expert’s side ends the session', async () => {
    const withoutConfig = await deciding();
    await withoutConfig.agent.approve('view');
    await sendRaw(withoutConfig.agentClient, { type: 'video-chunk', ...chunk(true, 1) });
    await heard.until(() => withoutConfig.seen.ended, 'the end');
    expect(withoutConfig.seen.errors).toEqual(['the other side broke the assistance protocol: video without a configuration']);

    const deltaFirst = await sharingDesktop();
    await sendRaw(deltaFirst.agentClient, { type: 'video-chunk', ...chunk(false, 1) });
    await heard.until(() => deltaFirst.seen.ended, 'the end');
    expect(deltaFirst.seen.errors).toEqual(['the other side broke the assistance protocol: a delta frame before any key frame']);

    const whilePaused = await sharingDesktop();
    await whilePaused.agent.pause();
    await sendRaw(whilePaused.agentClient, { type: 'video-chunk', ...chunk(true, 1) });
    await heard.until(() => whilePaused.seen.ended, 'the end');
    expect(whilePaused.seen.errors).toEqual(['the other side broke the assistance protocol: video while paused']);

    const configOutsideShare = await deciding();
    await configOutsideShare.agent.approve('view');
    await sendRaw(configOutsideShare.agentClient, { type: 'video-config', ...desktop });
    await heard.until(() => configOutsideShare.seen.ended, 'the end');
    expect(configOutsideShare.seen.errors).toEqual(['the other side broke the assistance protocol: a video configuration outside a share']);
  });

  it('mouse or keys from the agent, or video from the expert, break the protocol: both sides learn it was a violation', async () => {
    const { agent, expertClient, seen } = await sharingDesktop();
    const errors: string[] = [];
    agent.on('error', (error) => errors.push(error.message));
    await sendRaw(expertClient, { type: 'video-chunk', ...chunk(true, 1) });
    await heard.until(() => agent.phase === 'ended', 'the agent’s end');
    expect(errors).toEqual(['the other side broke the assistance protocol: the expert may not send video-chunk']);
    expect(agent.video).toBeUndefined();
    await heard.until(() => seen.ended, 'the expert’s end');
    expect(seen.endReason).toBe('protocol-violation');
  });
});
