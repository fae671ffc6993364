// Before approval the relay caps the number of frames per connection, not only their size (issue 14):
// a joiner without the secret cannot make the relay carry (and bill) an endless stream of small frames.
import { describe, expect, it } from 'vitest';
import type { ServerMessage } from '../../shared/core/messages.js';
import { useLocalRuntime } from '../support/runtime.js';
import { frameOf, TestSocket } from '../support/ws-client.js';

const CAP = 5;
const runtime = useLocalRuntime({ policy: { preApprovalFramesPerConnection: CAP } });

const text = (message: ServerMessage) => (message.type === 'frame' ? Buffer.from(message.data, 'base64').toString() : message);

describe('frames before approval', () => {
  it(`are capped at ${CAP} per connection; approval lifts the cap`, async () => {
    const agent = await TestSocket.open(runtime().wsUrl);
    const created = (await agent.request({ action: 'createSession' })) as Extract<ServerMessage, { type: 'sessionCreated' }>;
    const expert = await TestSocket.open(runtime().wsUrl);
    expect(await expert.request({ action: 'joinSession', nameplate: created.nameplate })).toMatchObject({ type: 'sessionJoined' });
    expect(await agent.next()).toEqual({ type: 'peer', state: 'connected' });

    for (let n = 1; n <= CAP; n++) {
      expert.send(frameOf(`small ${n}`));
      expect(text(await agent.next())).toBe(`small ${n}`);
    }
    expect(await expert.request(frameOf('one too many'))).toMatchObject({ type: 'error', code: 'not-approved', message: expect.stringContaining(`at most ${CAP} frames`) });
    // The agent's own count is its own.
    agent.send(frameOf('from the agent'));
    expect(text(await expert.next())).toBe('from the agent');

    expect(await agent.request({ action: 'approveSession', mode: 'view' })).toMatchObject({ type: 'sessionActive' });
    expect(await expert.next()).toMatchObject({ type: 'sessionActive' });
    expert.send(frameOf('after approval'));
    expect(text(await agent.next())).toBe('after approval');
    agent.close();
    expert.close();
  });
});
