// Issue 15's faults (AccessDenied, throttled, frame too large, wrong stage): each reaches the client as the typed
// error or close code it gets on AWS, and none leaves anything half-done: the session item is read after each.
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { localAwsConfig } from '../../infra/local/dynamo.js';
import { webSocketRoutes } from '../../functions/lib/routes.js';
import { DynamoSessionStore } from '../../shared/server/adapters/dynamo-session-store.js';
import type { ServerMessage } from '../../shared/core/messages.js';
import { useCleanups } from '../support/harness.js';
import { useLocalRuntime } from '../support/runtime.js';
import { TestSocket } from '../support/ws-client.js';

const runtime = useLocalRuntime({
  // A burst of 3 messages per connection that does not refill within a test: the 4th message is throttled.
  limits: { messagesPerSecond: 0.001, messageBurst: 3 },
  // The extend function as if its role lacked UpdateItem: it reads the session, then is refused its write.
  grants: { 'extend-session': { ...webSocketRoutes.extendSession, tableActions: ['GetItem'] } },
});
const defer = useCleanups();

let client: DynamoDBClient | undefined;
afterAll(() => client?.destroy());
const table = () => (client ??= new DynamoDBClient({ ...localAwsConfig, endpoint: runtime().dynamoEndpoint }));
const sessionItem = (sessionId: string) => new DynamoSessionStore(table(), runtime().tableName, () => Math.floor(Date.now() / 1000)).getSession(sessionId);

async function socket(): Promise<TestSocket> {
  const opened = await TestSocket.open(runtime().wsUrl);
  defer(() => opened.close());
  return opened;
}

/** The next message of `type` on `on`, past notices such as the peer's arrival. */
async function next<T extends ServerMessage['type']>(on: TestSocket, type: T): Promise<Extract<ServerMessage, { type: T }>> {
  for (;;) {
    const message = await on.next();
    if (message.type === type) return message as Extract<ServerMessage, { type: T }>;
  }
}

/** An approved session: the agent has sent 2 of its 3 messages (create, approve), the expert 1 (join). */
async function approvedSession() {
  const agent = await socket();
  const expert = await socket();
  agent.send({ action: 'createSession' });
  const { sessionId, nameplate } = await next(agent, 'sessionCreated');
  expert.send({ action: 'joinSession', nameplate });
  const { resumeToken: expertResumeToken } = await next(expert, 'sessionJoined');
  agent.send({ action: 'approveSession', mode: 'control' });
  await next(agent, 'sessionActive');
  await next(expert, 'sessionActive');
  await runtime().gateway.settle();
  return { agent, expert, sessionId, expertResumeToken, before: (await sessionItem(sessionId))! };
}

describe('faults leave the session item whole', () => {
  // First, while no earlier test's connections are still closing: the whole table must stay as it is.
  it('a wrong stage path: the upgrade’s 403 reaches no function and writes nothing', async () => {
    const items = async () => (await table().send(new ScanCommand({ TableName: runtime().tableName, ConsistentRead: true }))).Items ?? [];
    const { sessionId, before } = await approvedSession();
    const stored = await items();

    const refused = await TestSocket.open(new URL('/live', runtime().wsUrl).href).catch((error: unknown) => error);

    expect(String(refused)).toContain('403');
    expect(await items()).toEqual(stored);
    expect(await sessionItem(sessionId)).toEqual(before);
  });

  it('AccessDenied: the refused route answers the typed error internal, with a sentence, and the session is as it was', async () => {
    const { agent, sessionId, before } = await approvedSession();
    expect(before.state).toBe('active');

    agent.send({ action: 'extendSession', seconds: 30 * 60 });

    // The SDK throws it as RelayError('internal', <the sentence>).
    expect(await next(agent, 'error')).toMatchObject({ code: 'internal', message: 'the relay failed to handle this message; try again', requestAction: 'extendSession' });
    expect(await sessionItem(sessionId)).toEqual(before);
  });

  it('throttled: API Gateway’s Too Many Requests, and the refused request is never run: the session is as it was', async () => {
    const { agent, sessionId, before } = await approvedSession();
    agent.send({ action: 'recordEvent', event: 'control-revoked' }); // the agent's 3rd and last message of its burst
    await next(agent, 'eventRecorded');

    // What the SDK resends with backoff, then turns into RelayConnectionError 'throttled' (gateway-errors.test.ts).
    expect(await agent.request({ action: 'endSession' })).toMatchObject({ message: 'Too Many Requests' });

    await runtime().gateway.settle();
    expect(await sessionItem(sessionId)).toEqual(before);
  });

  it('a frame over 32 KB: 1009 closes the sender’s connection, which leaves its seat to resume and changes nothing else', async () => {
    const { expert, sessionId, expertResumeToken, before } = await approvedSession();

    expert.send({ action: 'frame', data: 'A'.repeat(32 * 1024) });

    expect((await expert.closed).code).toBe(1009);
    await runtime().gateway.settle();
    const after = (await sessionItem(sessionId))!;
    const { connectionId: _gone, ...seat } = before.expert!;
    expect(after).toEqual({ ...before, expert: { ...seat, disconnectedAt: expect.any(Number) } });
    const back = await socket();
    expect(await back.request({ action: 'resumeSession', sessionId, resumeToken: expertResumeToken })).toMatchObject({ type: 'sessionResumed' });
  });

});
