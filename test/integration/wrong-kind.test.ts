// A join says which kind of invitation it expects (issue 13): another kind is answered `wrong-kind`,
// naming the invitation's kind, before any seat is taken, so the mix-up neither keeps the right
// joiner out nor reaches the creator.
import { describe, expect, it } from 'vitest';
import type { InvitationKind, ServerMessage } from '../../shared/core/messages.js';
import { useCleanups } from '../support/harness.js';
import { useLocalRuntime } from '../support/runtime.js';
import { TestSocket } from '../support/ws-client.js';

const runtime = useLocalRuntime({ policy: { joinsPerSourceIp: 10_000 } });
const defer = useCleanups();

async function socket(): Promise<TestSocket> {
  const opened = await TestSocket.open(runtime().wsUrl);
  defer(() => opened.close());
  return opened;
}

const kinds: InvitationKind[] = ['file', 'easy-connect', 'helper-code'];

describe('a join expecting another kind of invitation', () => {
  it.each(kinds.flatMap((actual) => kinds.filter((expected) => expected !== actual).map((expected) => [actual, expected] as const)))(
    'a %s invitation joined as %s is refused before any seat, and the right join follows at once',
    async (actual, expected) => {
      const creator = await socket();
      const created = (await creator.request({ action: 'createSession', kind: actual })) as Extract<ServerMessage, { type: 'sessionCreated' }>;
      const wrong = await socket();
      expect(await wrong.request({ action: 'joinSession', nameplate: created.nameplate, expectedKind: expected })).toEqual({
        type: 'error',
        code: 'wrong-kind',
        message: expect.stringMatching(/^this invitation is .+, not .+$/),
        requestAction: 'joinSession',
        invitationKind: actual,
      });
      // The same connection may still join what it meant to: it was never bound to this session.
      const other = (await wrong.request({ action: 'createSession', kind: expected })) as Extract<ServerMessage, { type: 'sessionCreated' }>;
      expect(other.type).toBe('sessionCreated');

      const right = await socket();
      expect(await right.request({ action: 'joinSession', nameplate: created.nameplate, expectedKind: actual })).toMatchObject({ type: 'sessionJoined', kind: actual });
      // The creator heard of the right joiner only.
      expect(await creator.next()).toEqual({ type: 'peer', state: 'connected' });
      expect(creator.pending()).toEqual([]);
    },
  );

  it('an unknown kind is an invalid request', async () => {
    const joiner = await socket();
    expect(await joiner.request({ action: 'joinSession', nameplate: '7KQ3', expectedKind: 'password' })).toMatchObject({ type: 'error', code: 'invalid-request' });
  });
});
