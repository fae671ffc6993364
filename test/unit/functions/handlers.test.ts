import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  GoneException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import * as clients from '../../../functions/lib/clients.js';
import { createDepsResolver } from '../../../functions/lib/wiring.js';
import { webSocketRoute } from '../../../functions/lib/entries.js';
import { defaultPolicy } from '../../../shared/server/config/policy.js';
import { silentLog } from '../../../shared/server/ports/log.js';
import { SESv2Client, SendEmailCommand, TooManyRequestsException } from '@aws-sdk/client-sesv2';
import type { SesMailerOptions } from '../../../shared/server/adapters/ses-mailer.js';
import { closeConnection, openConnection } from '../../../shared/server/use-cases/connections.js';
import { emailInvitation } from '../../../shared/server/use-cases/email-invitation.js';
import { relayFrame } from '../../../shared/server/use-cases/relay-frame.js';
import { createSession, joinSession } from '../../../shared/server/use-cases/sessions.js';
import { createInvitationFile } from '../../../shared/core/invitation-file.js';
import { newFileSecret } from '../../../shared/core/codes.js';
import { webSocketEvent } from '../../support/events.js';

const NOW_MS = 1_800_000_000_000;
const NOW = NOW_MS / 1000;
const dynamo = mockClient(DynamoDBDocumentClient);
const ses = mockClient(SESv2Client);
const management = mockClient(ApiGatewayManagementApiClient);

// Each route's handler as its Lambda entry builds it (functions/lib/entries.ts), from its key and use case.
const connectRoute = webSocketRoute('$connect', openConnection);
const disconnectRoute = webSocketRoute('$disconnect', closeConnection);
const defaultRoute = webSocketRoute('$default');
const createSessionRoute = webSocketRoute('createSession', createSession);
const joinSessionRoute = webSocketRoute('joinSession', joinSession);
const frameRoute = webSocketRoute('frame', relayFrame);
const emailInvitationRoute = webSocketRoute('emailInvitation', emailInvitation);

function wiring(sender?: SesMailerOptions) {
  return createDepsResolver({
    clients,
    sender,
    tableName: 'relay-table',
    policy: defaultPolicy,
    log: silentLog,
    clock: () => NOW_MS,
    callbackUrl: 'https://abc123.execute-api.eu-west-1.amazonaws.com/live',
    endpoints: { webSocketUrl: 'wss://relay.example.org/live', httpUrl: 'https://relay.example.org' },
    awsClientConfig: { region: 'eu-west-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } },
  });
}

const liveSession = (agentConnection: string, expertConnection?: string) => ({
  pk: 'SESSION#s-1',
  sessionId: 's-1',
  nameplate: 'K7QM',
  kind: 'easy-connect',
  creatorRole: 'agent',
  state: 'active',
  createdAt: NOW - 60,
  invitationExpiresAt: NOW + 1800,
  sessionExpiresAt: NOW + 3600,
  sessionTtlSeconds: 7200,
  failedAttempts: 0,
  idleTimeoutSeconds: 900,
  lastActiveAt: NOW - 10,
  agent: { tokenHash: 'a', connectionId: agentConnection },
  ...(expertConnection ? { expert: { tokenHash: 'e', connectionId: expertConnection } } : { expert: { tokenHash: 'e' } }),
  expiresAt: NOW + 7200,
});

function storeHolds(items: Record<string, Record<string, unknown>>) {
  dynamo.on(GetCommand).callsFake((input: { Key: { pk: string } }) => ({ Item: items[input.Key.pk] }));
}

const invoke = (handler: (event: never, context: never) => Promise<unknown>, event: unknown) =>
  handler(event as never, {} as never) as Promise<{ statusCode: number; body?: string }>;

const replyOf = (result: { body?: string }) => (result.body ? JSON.parse(result.body) : undefined);

/** What was posted to a connection through @connections (a one-way route's answers to its caller too), parsed. */
const postedTo = (connectionId: string) =>
  management
    .commandCalls(PostToConnectionCommand)
    .filter((call) => call.args[0].input.ConnectionId === connectionId)
    .map((call) => JSON.parse(new TextDecoder().decode(call.args[0].input.Data as Uint8Array)) as unknown);

describe('handlers', () => {
  beforeEach(() => {
    dynamo.reset();
    management.reset();
    dynamo.on(UpdateCommand).resolves({});
    management.on(PostToConnectionCommand).resolves({});
  });

  it('$connect registers the connection with its source IP and a TTL', async () => {
    dynamo.on(PutCommand).resolves({});
    const result = await invoke(connectRoute(wiring()), webSocketEvent('$connect', 'conn-a'));
    expect(result.statusCode).toBe(200);
    const item = dynamo.commandCalls(PutCommand)[0]?.args[0].input.Item;
    expect(item).toMatchObject({ pk: 'CONN#conn-a', sourceIp: '203.0.113.7', connectedAt: NOW });
    expect(item?.expiresAt).toBeGreaterThan(NOW + 2 * 3600);
  });

  it('frame: relays to the peer, reading the store only for the first frame of a connection', async () => {
    storeHolds({ 'CONN#agent-1': { connectionId: 'agent-1', sessionId: 's-1', role: 'agent', expiresAt: NOW + 99 }, 'SESSION#s-1': liveSession('agent-1', 'expert-1') });
    const frame = frameRoute(wiring());
    for (let i = 0; i < 20; i++) {
      const result = await invoke(frame, webSocketEvent('frame', 'agent-1', { action: 'frame', data: 'AAEC' }));
      expect(result).toEqual({ statusCode: 200 });
    }
    expect(dynamo.commandCalls(GetCommand)).toHaveLength(2);
    const posts = management.commandCalls(PostToConnectionCommand);
    expect(posts).toHaveLength(20);
    expect(posts.every((call) => call.args[0].input.ConnectionId === 'expert-1')).toBe(true);
    expect(new TextDecoder().decode(posts[0]?.args[0].input.Data as Uint8Array)).toBe('{"type":"frame","data":"AAEC"}');
  });

  it('frame: frames arriving together on a cold route share one store read', async () => {
    storeHolds({ 'CONN#agent-1': { connectionId: 'agent-1', sessionId: 's-1', role: 'agent', expiresAt: NOW + 99 }, 'SESSION#s-1': liveSession('agent-1', 'expert-1') });
    const frame = frameRoute(wiring());
    const results = await Promise.all(Array.from({ length: 20 }, () => invoke(frame, webSocketEvent('frame', 'agent-1', { action: 'frame', data: 'AAEC' }))));
    expect(results.every((result) => result.statusCode === 200 && result.body === undefined)).toBe(true);
    expect(dynamo.commandCalls(GetCommand)).toHaveLength(2);
    expect(management.commandCalls(PostToConnectionCommand)).toHaveLength(20);
  });

  it('frame: a frame that shared a read still decides a refusal on its own read (the shared one may predate the approval)', async () => {
    const connection = { connectionId: 'agent-1', sessionId: 's-1', role: 'agent', expiresAt: NOW + 99 };
    // The first session read sees it before approval; every later read, approved.
    let sessionReads = 0;
    dynamo.on(GetCommand).callsFake((input: { Key: { pk: string } }) =>
      input.Key.pk === 'CONN#agent-1'
        ? { Item: connection }
        : { Item: sessionReads++ === 0 ? { ...liveSession('agent-1', 'expert-1'), state: 'joined' } : liveSession('agent-1', 'expert-1') },
    );
    const frame = frameRoute(wiring());
    const [small, large] = await Promise.all([
      invoke(frame, webSocketEvent('frame', 'agent-1', { action: 'frame', data: 'AAEC' })),
      invoke(frame, webSocketEvent('frame', 'agent-1', { action: 'frame', data: 'A'.repeat(16 * 1024) })),
    ]);
    expect(small).toEqual({ statusCode: 200 });
    expect(large).toEqual({ statusCode: 200 });
    expect(sessionReads).toBe(2);
    expect(management.commandCalls(PostToConnectionCommand)).toHaveLength(2);
  });

  it('$connect refuses the connection when it cannot be registered', async () => {
    dynamo.on(PutCommand).rejects(new Error('DynamoDB unavailable'));
    const result = await invoke(connectRoute(wiring()), webSocketEvent('$connect', 'conn-a'));
    expect(result).toEqual({ statusCode: 500 });
  });

  it('frame: when the peer is gone, marks the peer disconnected and never deletes the sender', async () => {
    storeHolds({ 'CONN#agent-1': { connectionId: 'agent-1', sessionId: 's-1', role: 'agent', expiresAt: NOW + 99 }, 'SESSION#s-1': liveSession('agent-1', 'expert-1') });
    management.on(PostToConnectionCommand).rejects(new GoneException({ message: 'gone', $metadata: {} }));
    const result = await invoke(frameRoute(wiring()), webSocketEvent('frame', 'agent-1', { action: 'frame', data: 'AAEC' }));
    // The frame route is one-way: the sender is told by a post, and the result carries nothing.
    expect(result).toEqual({ statusCode: 200 });
    expect(postedTo('agent-1')).toEqual([{ type: 'peer', state: 'disconnected' }]);
    const detach = dynamo.commandCalls(UpdateCommand).find((call) => call.args[0].input.UpdateExpression?.includes('REMOVE #seat.connectionId'));
    expect(detach?.args[0].input.ExpressionAttributeNames).toEqual({ '#seat': 'expert' });
    expect(detach?.args[0].input.ExpressionAttributeValues?.[':connectionId']).toBe('expert-1');
    expect(management.commandCalls(DeleteConnectionCommand)).toHaveLength(0);
  });

  it('frame: when the peer resumed on a new connection, the cached route is refreshed and the frame delivered', async () => {
    const items = { 'CONN#agent-1': { connectionId: 'agent-1', sessionId: 's-1', role: 'agent', expiresAt: NOW + 99 }, 'SESSION#s-1': liveSession('agent-1', 'expert-1') };
    storeHolds(items);
    const frame = frameRoute(wiring());
    await invoke(frame, webSocketEvent('frame', 'agent-1', { action: 'frame', data: 'AAEC' }));
    items['SESSION#s-1'] = liveSession('agent-1', 'expert-2');
    management.on(PostToConnectionCommand, { ConnectionId: 'expert-1' }).rejects(new GoneException({ message: 'gone', $metadata: {} }));
    const result = await invoke(frame, webSocketEvent('frame', 'agent-1', { action: 'frame', data: 'AAEC' }));
    expect(result).toEqual({ statusCode: 200 });
    expect(management.commandCalls(PostToConnectionCommand).at(-1)?.args[0].input.ConnectionId).toBe('expert-2');
  });

  it('frame: a route without a peer is not cached, so a peer resuming through another container gets the next frame', async () => {
    const items = { 'CONN#agent-1': { connectionId: 'agent-1', sessionId: 's-1', role: 'agent', expiresAt: NOW + 99 }, 'SESSION#s-1': liveSession('agent-1') };
    storeHolds(items);
    const frame = frameRoute(wiring());
    await invoke(frame, webSocketEvent('frame', 'agent-1', { action: 'frame', data: 'AAEC' }));
    expect(postedTo('agent-1')).toEqual([{ type: 'peer', state: 'disconnected' }]);
    items['SESSION#s-1'] = liveSession('agent-1', 'expert-9');
    expect(await invoke(frame, webSocketEvent('frame', 'agent-1', { action: 'frame', data: 'AAEC' }))).toEqual({ statusCode: 200 });
    expect(management.commandCalls(PostToConnectionCommand).map((call) => call.args[0].input.ConnectionId)).toEqual(['agent-1', 'expert-9']);
  });

  it('frame: when the gone peer was already detached elsewhere, no second detach is written', async () => {
    const items = { 'CONN#agent-1': { connectionId: 'agent-1', sessionId: 's-1', role: 'agent', expiresAt: NOW + 99 }, 'SESSION#s-1': liveSession('agent-1', 'expert-1') };
    storeHolds(items);
    management.on(PostToConnectionCommand).callsFake(() => {
      items['SESSION#s-1'] = liveSession('agent-1');
      throw new GoneException({ message: 'gone', $metadata: {} });
    });
    await invoke(frameRoute(wiring()), webSocketEvent('frame', 'agent-1', { action: 'frame', data: 'AAEC' }));
    expect(postedTo('agent-1')).toEqual([{ type: 'peer', state: 'disconnected' }]);
    expect(dynamo.commandCalls(UpdateCommand).filter((call) => call.args[0].input.UpdateExpression?.includes('REMOVE #seat.connectionId'))).toHaveLength(0);
  });

  it('frame: a connection outside any session is told not-in-session, and nothing is relayed', async () => {
    storeHolds({ 'CONN#stranger': { connectionId: 'stranger', expiresAt: NOW + 99 } });
    const result = await invoke(frameRoute(wiring()), webSocketEvent('frame', 'stranger', { action: 'frame', data: 'AAEC' }));
    expect(result).toEqual({ statusCode: 200 });
    expect(postedTo('stranger')).toEqual([expect.objectContaining({ type: 'error', code: 'not-in-session', requestAction: 'frame' })]);
    expect(management.commandCalls(PostToConnectionCommand)).toHaveLength(1);
  });

  it('frame: an expired session ends, both sides are told why, and nothing is relayed', async () => {
    const expired = { ...liveSession('agent-1', 'expert-1'), sessionExpiresAt: NOW - 1 };
    storeHolds({ 'CONN#agent-1': { connectionId: 'agent-1', sessionId: 's-1', role: 'agent', expiresAt: NOW + 99 }, 'SESSION#s-1': expired });
    dynamo.on(UpdateCommand).resolves({ Attributes: expired });
    management.on(DeleteConnectionCommand).resolves({});
    await invoke(frameRoute(wiring()), webSocketEvent('frame', 'agent-1', { action: 'frame', data: 'AAEC' }));
    const posted = management.commandCalls(PostToConnectionCommand).map((call) => [
      call.args[0].input.ConnectionId,
      new TextDecoder().decode(call.args[0].input.Data as Uint8Array),
    ]);
    expect(posted.sort()).toEqual([
      ['agent-1', '{"type":"ended","reason":"expired"}'],
      ['expert-1', '{"type":"ended","reason":"expired"}'],
    ]);
    expect(management.commandCalls(DeleteConnectionCommand)).toHaveLength(2);
    // Approval released the nameplate already: no write for it.
    expect(dynamo.commandCalls(DeleteCommand)).toHaveLength(0);
  });

  it('createSession on a connection that already has a session answers already-in-session', async () => {
    storeHolds({ 'CONN#agent-1': { connectionId: 'agent-1', sessionId: 's-1', role: 'agent', expiresAt: NOW + 99 } });
    const result = await invoke(createSessionRoute(wiring()), webSocketEvent('createSession', 'agent-1', { action: 'createSession' }));
    expect(replyOf(result)).toMatchObject({ type: 'error', code: 'already-in-session' });
  });

  it('an unexpected failure becomes a generic internal error, without details leaking, on two-way and one-way routes', async () => {
    dynamo.on(GetCommand).rejects(new Error('socket hang up at 10.0.0.1'));
    const result = await invoke(createSessionRoute(wiring()), webSocketEvent('createSession', 'agent-1', { action: 'createSession' }));
    expect(result.statusCode).toBe(200);
    expect(replyOf(result)).toMatchObject({ type: 'error', code: 'internal' });
    expect(result.body).not.toContain('10.0.0.1');
    expect(await invoke(frameRoute(wiring()), webSocketEvent('frame', 'agent-1', { action: 'frame', data: 'AAEC' }))).toEqual({ statusCode: 200 });
    expect(postedTo('agent-1')).toEqual([expect.objectContaining({ type: 'error', code: 'internal', requestAction: 'frame' })]);
    expect(JSON.stringify(postedTo('agent-1'))).not.toContain('10.0.0.1');
  });

  it('a two-way route whose use case gives no answer answers internal instead of an empty message', async () => {
    const silent = webSocketRoute('listAudit', async () => undefined);
    const result = await invoke(silent(wiring()), webSocketEvent('listAudit', 'agent-1', { action: 'listAudit' }));
    expect(replyOf(result)).toMatchObject({ type: 'error', code: 'internal', requestAction: 'listAudit' });
  });

  it('$default answers malformed JSON and unknown actions with typed errors', async () => {
    const fallback = defaultRoute(wiring());
    expect(replyOf(await invoke(fallback, webSocketEvent('$default', 'c', '{oops')))).toMatchObject({ code: 'malformed-json' });
    expect(replyOf(await invoke(fallback, webSocketEvent('$default', 'c', { action: 'hack' })))).toMatchObject({ code: 'unknown-action' });
  });

  it('joinSession counts joins per IPv6 /64 (one subscriber rotating addresses is one network), before any lookup', async () => {
    storeHolds({
      'CONN#j-1': { connectionId: 'j-1', sourceIp: 'x', connectedAt: NOW, expiresAt: NOW + 99 },
      'CONN#j-2': { connectionId: 'j-2', sourceIp: 'x', connectedAt: NOW, expiresAt: NOW + 99 },
    });
    const join = joinSessionRoute(wiring());
    for (const [connectionId, sourceIp] of [['j-1', '2001:db8:aa:bb::1'], ['j-2', '2001:db8:aa:bb:ffff:1:2:3']] as const) {
      const event = webSocketEvent('joinSession', connectionId, { action: 'joinSession', nameplate: 'ZZZZ' });
      event.requestContext.identity.sourceIp = sourceIp;
      expect(replyOf(await invoke(join, event))).toMatchObject({ code: 'session-not-found' });
    }
    const counted = dynamo.commandCalls(UpdateCommand).map((call) => call.args[0].input.Key?.pk as string);
    expect(counted.filter((key) => key.startsWith('RATE#join-ip#2001:db8:aa:bb::/64#'))).toHaveLength(2);
    expect(counted.some((key) => key.includes('join-nameplate'))).toBe(false);
  });

  it('$disconnect frees only the seat this connection holds and tells the peer', async () => {
    storeHolds({ 'CONN#expert-1': { connectionId: 'expert-1', sessionId: 's-1', role: 'expert', expiresAt: NOW + 99 } });
    dynamo.on(UpdateCommand).resolves({ Attributes: liveSession('agent-1') });
    dynamo.on(DeleteCommand).resolves({});
    await invoke(disconnectRoute(wiring()), webSocketEvent('$disconnect', 'expert-1'));
    const detach = dynamo.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(detach?.ExpressionAttributeValues?.[':connectionId']).toBe('expert-1');
    // The connection, then the session (a joiner before approval would give its seat up instead); the
    // detach returns the session as it is now, so the peer is found without a third read.
    expect(dynamo.commandCalls(GetCommand)).toHaveLength(2);
    expect(management.commandCalls(PostToConnectionCommand)[0]?.args[0].input.ConnectionId).toBe('agent-1');
    expect(dynamo.commandCalls(DeleteCommand)[0]?.args[0].input.Key).toEqual({ pk: 'CONN#expert-1' });
  });

  describe('emailInvitation', () => {
    const waitingFileSession = { ...liveSession('agent-1'), kind: 'file', state: 'waiting', expert: undefined };
    const invitation = createInvitationFile({
      relay: { webSocketUrl: 'wss://relay.example.org/live', httpUrl: 'https://relay.example.org' },
      nameplate: 'K7QM',
      secret: newFileSecret(),
      requester: 'Ada',
      createdAt: new Date(NOW_MS - 60_000),
      expiresAt: new Date(NOW_MS + 3_600_000),
    });
    const request = { action: 'emailInvitation', to: 'tech@example.org', requesterName: 'Ada', invitation };
    const sesSender = (): SesMailerOptions => ({ from: 'relay@example.org' });

    beforeEach(() => {
      ses.reset();
      storeHolds({ 'CONN#agent-1': { connectionId: 'agent-1', sessionId: 's-1', role: 'agent', expiresAt: NOW + 99 }, 'SESSION#s-1': waitingFileSession });
    });

    it('sends through SES and answers invitationEmailed', async () => {
      ses.on(SendEmailCommand).resolves({ MessageId: 'm-1' });
      const result = await invoke(emailInvitationRoute(wiring(sesSender())), webSocketEvent('emailInvitation', 'agent-1', request));
      expect(replyOf(result)).toEqual({ type: 'invitationEmailed', to: 'tech@example.org' });
      expect(ses.commandCalls(SendEmailCommand)[0]?.args[0].input.Destination?.ToAddresses).toEqual(['tech@example.org']);
    });

    const emailCounts = () =>
      dynamo
        .commandCalls(UpdateCommand)
        .map((call) => call.args[0].input)
        .filter((input) => input.Key?.pk === 'SESSION#s-1' && String(input.UpdateExpression).includes('emailsSent'))
        .map((input) => input.ExpressionAttributeValues?.[':one'] ?? input.ExpressionAttributeValues?.[':minusOne']);

    it('counts an email against the invitation only once SES accepted it: a refused one is given back', async () => {
      ses.on(SendEmailCommand).rejects(new TooManyRequestsException({ message: 'slow down', $metadata: {} }));
      await invoke(emailInvitationRoute(wiring(sesSender())), webSocketEvent('emailInvitation', 'agent-1', request));
      expect(emailCounts()).toEqual([1, -1]);
      dynamo.resetHistory();
      ses.on(SendEmailCommand).resolves({ MessageId: 'm-2' });
      await invoke(emailInvitationRoute(wiring(sesSender())), webSocketEvent('emailInvitation', 'agent-1', request));
      expect(emailCounts()).toEqual([1]);
    });

    it('on an invitation past its time ends the session for both sides (nameplate freed, ended posted, connections closed) and sends nothing', async () => {
      storeHolds({
        'CONN#agent-1': { connectionId: 'agent-1', sessionId: 's-1', role: 'agent', expiresAt: NOW + 99 },
        'SESSION#s-1': { ...waitingFileSession, invitationExpiresAt: NOW - 1 },
      });
      dynamo.on(UpdateCommand).resolves({ Attributes: { ...waitingFileSession, invitationExpiresAt: NOW - 1 } });
      dynamo.on(DeleteCommand).resolves({});
      management.on(DeleteConnectionCommand).resolves({});
      const reply = replyOf(await invoke(emailInvitationRoute(wiring(sesSender())), webSocketEvent('emailInvitation', 'agent-1', request)));
      expect(reply).toMatchObject({ type: 'error', code: 'session-ended', endReason: 'expired' });
      expect(ses.commandCalls(SendEmailCommand)).toHaveLength(0);
      // What the stack must grant the email function: DeleteItem and @connections POST and DELETE.
      expect(dynamo.commandCalls(DeleteCommand).map((call) => call.args[0].input.Key)).toContainEqual({ pk: 'NAMEPLATE#K7QM' });
      expect(management.commandCalls(PostToConnectionCommand).map((call) => call.args[0].input.ConnectionId)).toContain('agent-1');
      expect(management.commandCalls(DeleteConnectionCommand).map((call) => call.args[0].input.ConnectionId)).toContain('agent-1');
    });

    it('turns an SES refusal into email-failed with advice, and says so when no sender is configured', async () => {
      ses.on(SendEmailCommand).rejects(new TooManyRequestsException({ message: 'slow down', $metadata: {} }));
      const throttled = replyOf(await invoke(emailInvitationRoute(wiring(sesSender())), webSocketEvent('emailInvitation', 'agent-1', request)));
      expect(throttled).toMatchObject({ type: 'error', code: 'email-failed', message: expect.stringMatching(/try again/i) });
      const unconfigured = replyOf(await invoke(emailInvitationRoute(wiring()), webSocketEvent('emailInvitation', 'agent-1', request)));
      expect(unconfigured).toMatchObject({ type: 'error', code: 'email-failed', message: expect.stringContaining('not set up') });
    });
  });
});
