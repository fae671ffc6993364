import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import * as clients from '../../../functions/lib/clients.js';
import { createDepsResolver } from '../../../functions/lib/wiring.js';
import { webSocketRoute } from '../../../functions/lib/entries.js';
import { openConnection } from '../../../shared/server/use-cases/connections.js';
import { defaultPolicy } from '../../../shared/server/config/policy.js';
import { silentLog } from '../../../shared/server/ports/log.js';
import { webSocketEvent } from '../../support/events.js';

const dynamo = mockClient(DynamoDBDocumentClient);

const connect = webSocketRoute('$connect', openConnection)(
  createDepsResolver({
    clients,
    tableName: 'relay-table',
    policy: { ...defaultPolicy, allowedOrigins: ['https://help.example.org'] },
    log: silentLog,
    callbackUrl: 'https://abc123.execute-api.eu-west-1.amazonaws.com/live',
    endpoints: { webSocketUrl: 'wss://relay.example.org/live', httpUrl: 'https://relay.example.org' },
    awsClientConfig: { region: 'eu-west-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } },
  }),
);

/** $connect with the given request headers, as API Gateway passes them (names as the client sent them). */
const connectWith = (headers?: Record<string, string>) =>
  connect({ ...webSocketEvent('$connect', 'conn-a'), ...(headers ? { headers } : {}) } as never, {} as never) as Promise<{ statusCode: number }>;

describe('$connect: browser origins', () => {
  beforeEach(() => {
    dynamo.reset();
    dynamo.on(PutCommand).resolves({});
  });

  it.each([
    ['no Origin (the CLI, the SDK in Node)', undefined],
    ['the relay’s own pages', { Origin: 'https://relay.example.org' }],
    ['an allowed origin', { origin: 'https://help.example.org' }],
  ])('accepts %s and registers the connection', async (_who, headers) => {
    expect(await connectWith(headers)).toEqual({ statusCode: 200 });
    expect(dynamo.commandCalls(PutCommand)).toHaveLength(1);
  });

  it.each([
    ['another site', 'https://elsewhere.example'],
    ['an allowed host on another scheme', 'http://help.example.org'],
    ['an allowed host on another port', 'https://help.example.org:8443'],
    ['a sandboxed page or file', 'null'],
  ])('refuses %s with a 403 before registering anything', async (_who, origin) => {
    expect(await connectWith({ Origin: origin })).toEqual({ statusCode: 403 });
    expect(dynamo.commandCalls(PutCommand)).toHaveLength(0);
  });
});
