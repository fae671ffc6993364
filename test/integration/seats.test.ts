// Seats need a live connection (issue 14): a joiner's seat before approval goes with its connection,
// one connection holds at most one seat, and nobody but failed key confirmations limits how often an
// invitation can be joined, so a third party's joins cannot lock the real technician out.
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { localAwsConfig } from '../../infra/local/dynamo.js';
import type { ServerMessage } from '../../shared/core/messages.js';
import { useCleanups } from '../support/harness.js';
import { useLocalRuntime } from '../support/runtime.js';
import { TestSocket } from '../support/ws-client.js';

const runtime = useLocalRuntime({ policy: { joinsPerSourceIp: 10_000 } });
const defer = useCleanups();

type Created = Extract<ServerMessage, { type: 'sessionCreated' }>;

async function socket(): Promise<TestSocket> {
  const opened = await TestSocket.open(runtime().wsUrl);
  defer(() => opened.close());
  return opened;
}

async function invite(): Promise<{ creator: TestSocket; created: Created }> {
  const creator = await socket();
  const created = (await creator.request({ action: 'createSession' })) as Created;
  expect(created.type).toBe('sessionCreated');
  return { creator, created };
}

/** Session items in the table, whatever state: an orphaned invitation would be one more. */
async function sessionsStored(): Promise<number> {
  const client = new DynamoDBClient({ ...localAwsConfig, endpoint: runtime().dynamoEndpoint });
  const { Items = [] } = await client.send(new ScanCommand({ TableName: runtime().tableName }));
  client.destroy();
  return Items.filter((item) => item.pk?.S?.startsWith('SESSION#')).length;
}

/** Sends every request at once on one connection and collects as many replies. */
async function concurrently(on: TestSocket, requests: unknown[]): Promise<ServerMessage[]> {
  for (const request of requests) on.send(request);
  const replies: ServerMessage[] = [];
  for (let n = 0; n < requests.length; n++) replies.push(await on.next());
  return replies;
}

describe('seats need a live connection', () => {
  it('a joiner whose connection drops before approval gives its seat up at once: the real technician joins right after', async () => {
    const { creator, created } = await invite();
    const ghost = await socket();
    expect(await ghost.request({ action: 'joinSession', nameplate: created.nameplate })).toMatchObject({ type: 'sessionJoined' });
    expect(await creator.next()).toEqual({ type: 'peer', state: 'connected' });
    ghost.socket.terminate();

    // The creator learns the joiner left (the invitation is open again), not that it may come back.
    expect(await creator.next()).toEqual({ type: 'peer', state: 'left' });
    const technician = await socket();
    expect(await technician.request({ action: 'joinSession', nameplate: created.nameplate })).toMatchObject({ type: 'sessionJoined', role: 'expert' });
    expect(await creator.next()).toEqual({ type: 'peer', state: 'connected' });
  });

  it('the ghost cannot come back with its resume token before approval', async () => {
    const { created } = await invite();
    const ghost = await socket();
    const joined = (await ghost.request({ action: 'joinSession', nameplate: created.nameplate })) as Extract<ServerMessage, { type: 'sessionJoined' }>;
    ghost.socket.terminate();
    await ghost.closed;
    await runtime().gateway.settle();
    const back = await socket();
    expect(await back.request({ action: 'resumeSession', sessionId: joined.sessionId, resumeToken: joined.resumeToken })).toMatchObject({
      type: 'error',
      code: 'invalid-resume-token',
    });
  });

  it('many joins that leave again do not lock the invitation: only failed confirmations count', async () => {
    const { creator, created } = await invite();
    for (let n = 0; n < 15; n++) {
      const passer = await socket();
      expect(await passer.request({ action: 'joinSession', nameplate: created.nameplate })).toMatchObject({ type: 'sessionJoined' });
      passer.close();
      expect(await creator.next()).toEqual({ type: 'peer', state: 'connected' });
      expect(await creator.next()).toEqual({ type: 'peer', state: 'left' });
    }
    const technician = await socket();
    expect(await technician.request({ action: 'joinSession', nameplate: created.nameplate })).toMatchObject({ type: 'sessionJoined' });
  });

  it('one connection holds one seat: of concurrent createSession requests one wins, and no other invitation is made', async () => {
    const before = await sessionsStored();
    const creator = await socket();
    const replies = await concurrently(creator, [{ action: 'createSession' }, { action: 'createSession' }, { action: 'createSession' }]);
    expect(replies.filter((reply) => reply.type === 'sessionCreated')).toHaveLength(1);
    expect(replies.filter((reply) => reply.type === 'error').map((reply) => reply.type === 'error' && reply.code)).toEqual(['already-in-session', 'already-in-session']);
    await runtime().gateway.settle();
    expect((await sessionsStored()) - before).toBe(1);
  });

  it('one connection holds one seat: concurrent joins of two invitations (and a create) take one seat; the other invitation stays open', async () => {
    const first = await invite();
    const second = await invite();
    const joiner = await socket();
    const replies = await concurrently(joiner, [
      { action: 'joinSession', nameplate: first.created.nameplate },
      { action: 'joinSession', nameplate: second.created.nameplate },
      { action: 'createSession' },
    ]);
    const won = replies.filter((reply): reply is Extract<ServerMessage, { type: 'sessionJoined' | 'sessionCreated' }> =>
      reply.type === 'sessionJoined' || reply.type === 'sessionCreated',
    );
    expect(won).toHaveLength(1);
    expect(replies.filter((reply) => reply.type === 'error' && reply.code === 'already-in-session')).toHaveLength(2);

    // Whichever invitation the connection did not join is open for someone else.
    for (const { created } of [first, second]) {
      if (won[0]!.type === 'sessionJoined' && won[0]!.sessionId === created.sessionId) continue;
      const other = await socket();
      expect(await other.request({ action: 'joinSession', nameplate: created.nameplate })).toMatchObject({ type: 'sessionJoined' });
    }
  });
});
