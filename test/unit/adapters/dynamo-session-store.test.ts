import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  ProvisionedThroughputExceededException,
} from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoSessionStore } from '../../../shared/server/adapters/dynamo-session-store.js';

const NOW = 1_800_000_000;
const conditionFailed = () => new ConditionalCheckFailedException({ message: 'condition', $metadata: {} });

describe('DynamoSessionStore', () => {
  // The store talks through the document client, so that is what gets mocked.
  const dynamo = mockClient(DynamoDBDocumentClient);
  const store = new DynamoSessionStore(new DynamoDBClient({ region: 'eu-west-1' }), 'relay-table', () => NOW);

  beforeEach(() => dynamo.reset());

  it('treats an item past expiresAt as absent even before TTL deletes it', async () => {
    dynamo.on(GetCommand).resolves({ Item: { pk: 'CONN#a', connectionId: 'a', connectedAt: 1, sourceIp: 'x', expiresAt: NOW } });
    expect(await store.getConnection('a')).toBeUndefined();
    dynamo.on(GetCommand).resolves({ Item: { pk: 'CONN#a', connectionId: 'a', connectedAt: 1, sourceIp: 'x', expiresAt: NOW + 1 } });
    expect(await store.getConnection('a')).toEqual({ connectionId: 'a', connectedAt: 1, sourceIp: 'x' });
  });

  it('reads with strong consistency from the right key', async () => {
    dynamo.on(GetCommand).resolves({});
    await store.getSession('s1');
    expect(dynamo.commandCalls(GetCommand)[0]?.args[0].input).toMatchObject({
      TableName: 'relay-table',
      Key: { pk: 'SESSION#s1' },
      ConsistentRead: true,
    });
  });

  it('answers false when a conditional write loses the race', async () => {
    dynamo.on(UpdateCommand).rejects(conditionFailed());
    dynamo.on(PutCommand).rejects(conditionFailed());
    expect(await store.bindConnection('c', 's', 'agent')).toBe(false);
    expect(await store.claimJoinerSeat('s', 'expert', { tokenHash: 'h' }, NOW)).toBe(false);
    expect(await store.releaseJoinerSeat('s', 'expert', 'c')).toBeUndefined();
    expect(await store.countFailedAttempt('s')).toBeUndefined();
    expect(await store.countEmail('s', 3)).toBe(false);
    expect(await store.activateSession('s', 'view', NOW, NOW + 60)).toBeUndefined();
    expect(await store.detachConnection('s', 'agent', 'c', NOW)).toBeUndefined();
    expect(await store.claimNameplate('K7QM', 's', NOW + 60)).toBe(false);
    expect(await store.attachConnection('s', 'expert', 'c', { presented: 'h1', next: 'h2', now: NOW, previousUntil: NOW + 300 })).toBeUndefined();
    expect(await store.endSession('s', 'expired', NOW)).toBeUndefined();
  });

  it('answers true when a conditional write wins', async () => {
    dynamo.on(UpdateCommand).resolves({});
    dynamo.on(PutCommand).resolves({});
    expect(await store.bindConnection('c', 's', 'agent')).toBe(true);
    expect(await store.claimNameplate('K7QM', 's', NOW + 60)).toBe(true);
  });

  it('unbinds a connection only from the session it was bound to, and quietly when it no longer is', async () => {
    dynamo.on(UpdateCommand).rejects(conditionFailed());
    await expect(store.unbindConnection('c', 's')).resolves.toBeUndefined();
    expect(dynamo.commandCalls(UpdateCommand)[0]?.args[0].input).toMatchObject({
      Key: { pk: 'CONN#c' },
      UpdateExpression: 'REMOVE sessionId, #role',
      ConditionExpression: 'sessionId = :sessionId',
      ExpressionAttributeValues: { ':sessionId': 's' },
    });
  });

  it('attaches a resumed connection only for the seat’s newest token, or the one before within its grace, and rotates them', async () => {
    dynamo.on(UpdateCommand).resolves({});
    await store.attachConnection('s', 'expert', 'c', { presented: 'h1', next: 'h2', now: NOW, previousUntil: NOW + 300 });
    const input = dynamo.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(input?.ConditionExpression).toContain('(#seat.tokenHash = :presented OR (#seat.previousTokenHash = :presented AND #seat.previousTokenUntil > :now))');
    expect(input?.UpdateExpression).toContain('#seat.tokenHash = :next, #seat.previousTokenHash = :presented, #seat.previousTokenUntil = :until');
    expect(input?.ExpressionAttributeValues).toMatchObject({ ':presented': 'h1', ':next': 'h2', ':now': NOW, ':until': NOW + 300 });
  });

  it('only claims the joiner seat while the session waits, is unexpired and that seat is empty', async () => {
    dynamo.on(UpdateCommand).resolves({});
    await store.claimJoinerSeat('s', 'agent', { tokenHash: 'h', connectionId: 'c' }, NOW);
    const input = dynamo.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(input?.ConditionExpression).toContain('#state = :waiting');
    expect(input?.ConditionExpression).toContain('attribute_not_exists(#seat)');
    expect(input?.ConditionExpression).toContain('expiresAt > :now');
    expect(input?.ExpressionAttributeNames?.['#seat']).toBe('agent');
  });

  it('releases the joiner seat only while joined and held by that connection, reopening the invitation', async () => {
    dynamo.on(UpdateCommand).resolves({ Attributes: { pk: 'SESSION#s', sessionId: 's', state: 'waiting', expiresAt: NOW + 10 } });
    expect(await store.releaseJoinerSeat('s', 'expert', 'c')).toEqual({ sessionId: 's', state: 'waiting' });
    const input = dynamo.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(input?.ConditionExpression).toBe('#state = :joined AND #seat.connectionId = :connectionId');
    expect(input?.UpdateExpression).toBe('SET #state = :waiting REMOVE #seat');
  });

  it('counts emails against the limit only while the invitation waits', async () => {
    dynamo.on(UpdateCommand).resolves({});
    expect(await store.countEmail('s', 3)).toBe(true);
    const input = dynamo.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(input?.ConditionExpression).toContain('emailsSent < :limit');
    expect(input?.ExpressionAttributeValues?.[':limit']).toBe(3);
  });

  it('detaches a seat only if the same connection still holds it (never the replacement), returning the session', async () => {
    dynamo.on(UpdateCommand).resolves({ Attributes: { pk: 'SESSION#s', sessionId: 's', state: 'joined', expiresAt: NOW + 10 } });
    expect(await store.detachConnection('s', 'expert', 'old-conn', NOW)).toEqual({ sessionId: 's', state: 'joined' });
    const input = dynamo.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(input?.ConditionExpression).toBe('#seat.connectionId = :connectionId');
    expect(input?.ExpressionAttributeValues?.[':connectionId']).toBe('old-conn');
    expect(input?.ReturnValues).toBe('ALL_NEW');
  });

  it('releases a nameplate only if it still points at the same session', async () => {
    dynamo.on(DeleteCommand).rejects(conditionFailed());
    await expect(store.releaseNameplate('K7QM', 's')).resolves.toBeUndefined();
    expect(dynamo.commandCalls(DeleteCommand)[0]?.args[0].input.ConditionExpression).toBe('sessionId = :sessionId');
  });

  it('returns the session as it was before it ended, once', async () => {
    dynamo.on(UpdateCommand).resolves({ Attributes: { pk: 'SESSION#s', sessionId: 's', state: 'joined', expiresAt: NOW + 10 } });
    expect(await store.endSession('s', 'idle-timeout', NOW)).toEqual({ sessionId: 's', state: 'joined' });
  });

  it('propagates throttling and other errors instead of reporting a lost race', async () => {
    dynamo.on(UpdateCommand).rejects(new ProvisionedThroughputExceededException({ message: 'throttled', $metadata: {} }));
    await expect(store.bindConnection('c', 's', 'agent')).rejects.toBeInstanceOf(ProvisionedThroughputExceededException);
  });

  it('lists open sessions from the sparse OpenSessions index across pages, never scanning the table', async () => {
    dynamo
      .on(QueryCommand)
      .resolvesOnce({ Items: [{ pk: 'SESSION#a', openSession: 'open' }], LastEvaluatedKey: { pk: 'SESSION#a', openSession: 'open' } })
      .resolvesOnce({ Items: [{ pk: 'SESSION#b', openSession: 'open' }, { pk: 'SESSION#c', openSession: 'open' }] });
    // The index lags the table: b has just ended, c has expired.
    dynamo.on(GetCommand, { Key: { pk: 'SESSION#a' } }).resolves({ Item: { pk: 'SESSION#a', sessionId: 'a', state: 'waiting', expiresAt: NOW + 1, openSession: 'open' } });
    dynamo.on(GetCommand, { Key: { pk: 'SESSION#b' } }).resolves({ Item: { pk: 'SESSION#b', sessionId: 'b', state: 'ended', expiresAt: NOW + 1 } });
    dynamo.on(GetCommand, { Key: { pk: 'SESSION#c' } }).resolves({ Item: { pk: 'SESSION#c', sessionId: 'c', state: 'active', expiresAt: NOW } });
    const sessions = [];
    for await (const session of store.listOpenSessions()) sessions.push(session);
    expect(sessions).toEqual([{ sessionId: 'a', state: 'waiting' }]);
    expect(dynamo.commandCalls(QueryCommand)[0]?.args[0].input).toMatchObject({
      TableName: 'relay-table',
      IndexName: 'OpenSessions',
      KeyConditionExpression: '#open = :open',
      ExpressionAttributeValues: { ':open': 'open' },
    });
    expect(dynamo.commandCalls(ScanCommand)).toHaveLength(0);
  });

  it('puts a new session in the OpenSessions index and takes it out when it ends', async () => {
    dynamo.on(PutCommand).resolves({});
    dynamo.on(UpdateCommand).resolves({});
    await store.createSession({ sessionId: 's' } as never, NOW + 60);
    expect(dynamo.commandCalls(PutCommand)[0]?.args[0].input.Item).toMatchObject({ pk: 'SESSION#s', openSession: 'open' });
    await store.endSession('s', 'expired', NOW);
    const update = dynamo.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(update?.UpdateExpression).toMatch(/REMOVE #open$/);
    expect(update?.ExpressionAttributeNames?.['#open']).toBe('openSession');
  });
});
