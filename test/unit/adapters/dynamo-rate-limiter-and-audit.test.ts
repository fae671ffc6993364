import { ConditionalCheckFailedException, DynamoDBClient, ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoAuditTrail, MAX_AUDIT_EVENTS } from '../../../shared/server/adapters/dynamo-audit-trail.js';
import { DynamoRateLimiter } from '../../../shared/server/adapters/dynamo-rate-limiter.js';

const NOW = 1_800_000_123;
const conditionFailed = () => new ConditionalCheckFailedException({ message: 'condition', $metadata: {} });
const throttled = () => new ProvisionedThroughputExceededException({ message: 'slow down', $metadata: {} });

const dynamo = mockClient(DynamoDBDocumentClient);
beforeEach(() => dynamo.reset());

describe('DynamoRateLimiter', () => {
  const limiter = new DynamoRateLimiter(new DynamoDBClient({ region: 'eu-west-1' }), 'relay-table');

  it('counts in a fixed window item that expires with the window', async () => {
    dynamo.on(UpdateCommand).resolves({});
    expect(await limiter.consume('join-ip#203.0.113.7', 20, 600, NOW)).toBe(true);
    const input = dynamo.commandCalls(UpdateCommand)[0]?.args[0].input;
    const windowStart = NOW - (NOW % 600);
    expect(input?.Key).toEqual({ pk: `RATE#join-ip#203.0.113.7#${windowStart}` });
    expect(input?.ConditionExpression).toBe('attribute_not_exists(hits) OR hits < :limit');
    expect(input?.ExpressionAttributeValues).toMatchObject({ ':limit': 20, ':windowEnd': windowStart + 600 });
  });

  it('refuses once the limit is reached (the condition fails), without counting', async () => {
    dynamo.on(UpdateCommand).rejects(conditionFailed());
    expect(await limiter.consume('k', 1, 60, NOW)).toBe(false);
  });

  it('lets throttling surface to the caller instead of guessing an answer', async () => {
    dynamo.on(UpdateCommand).rejects(throttled());
    await expect(limiter.consume('k', 1, 60, NOW)).rejects.toThrow(ProvisionedThroughputExceededException);
  });
});

describe('DynamoAuditTrail', () => {
  const audit = new DynamoAuditTrail(new DynamoDBClient({ region: 'eu-west-1' }), 'relay-table', () => NOW);

  it('appends to one item per session, bounded, with the retention as TTL', async () => {
    dynamo.on(UpdateCommand).resolves({});
    await audit.append('s-1', { at: NOW, event: 'created', role: 'agent' }, NOW + 99);
    const input = dynamo.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(input?.Key).toEqual({ pk: 'AUDIT#s-1' });
    expect(input?.UpdateExpression).toContain('list_append(if_not_exists(events, :none), :event)');
    expect(input?.ExpressionAttributeValues).toMatchObject({ ':event': [{ at: NOW, event: 'created', role: 'agent' }], ':expiresAt': NOW + 99, ':max': MAX_AUDIT_EVENTS });
  });

  it('drops events beyond the bound silently (a full log is not the user’s error)', async () => {
    dynamo.on(UpdateCommand).rejects(conditionFailed());
    await expect(audit.append('s-1', { at: NOW, event: 'paused' }, NOW + 99)).resolves.toBeUndefined();
  });

  it('lists events in order, and nothing once retention has passed', async () => {
    const events = [{ at: NOW - 5, event: 'created' }, { at: NOW, event: 'joined' }];
    dynamo.on(GetCommand).resolves({ Item: { pk: 'AUDIT#s-1', events, expiresAt: NOW + 1 } });
    expect(await audit.list('s-1')).toEqual(events);
    dynamo.on(GetCommand).resolves({ Item: { pk: 'AUDIT#s-1', events, expiresAt: NOW } });
    expect(await audit.list('s-1')).toEqual([]);
  });
});
