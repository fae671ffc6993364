import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { afterAll, describe, expect, it } from 'vitest';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoDeviceRegistry } from '../../shared/server/adapters/dynamo-device-registry.js';
import { DynamoSessionStore } from '../../shared/server/adapters/dynamo-session-store.js';
import type { SignedGroupPolicy } from '../../shared/core/group-policy.js';
import type { DeviceRecord, EnrolmentTokenRecord } from '../../shared/server/ports/device-registry.js';
import { localAwsConfig, startLocalDynamo, tableActive } from '../../infra/local/dynamo.js';

const dirs: string[] = [];
const now = Math.floor(Date.now() / 1000);
const device: DeviceRecord = { deviceId: 'd1', name: 'Reception PC', os: 'linux', group: 'Front desk', publicKey: 'k', enrolledAt: now, enrolledWith: 't1' };
const policy: SignedGroupPolicy = { policy: { group: 'Front desk', issuedAt: now, rules: [], technicianIssuer: { issuer: 'https://login.example.org', clientId: 'assist-relay', groupClaim: 'groups' } }, signature: 's' };
const enrolmentToken: EnrolmentTokenRecord = { tokenHash: 'h1', tokenId: 'h1', group: 'Front desk', createdAt: now, expiresAt: now + 3600, usesLeft: 1, operatorKey: 'o' };
const registryItems = {
  device: { pk: `DEVICE#${device.deviceId}`, ...device },
  policy: { pk: `POLICY#${policy.policy.group}`, ...policy },
  enrolmentToken: { pk: `ENROLMENT#${enrolmentToken.tokenHash}`, ...enrolmentToken },
};

async function all<T>(items: AsyncIterable<T>): Promise<T[]> {
  const list: T[] = [];
  for await (const item of items) list.push(item);
  return list;
}
afterAll(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

/**
 * A --data-dir database as older releases left it: the table alone (before the OpenSessions index), or with
 * the OpenSessions index only (before the Collections index); with sessions, an audit log, and a device, a
 * policy and an enrolment token written without their collection.
 */
async function olderDatabase(tableName: string, withOpenSessionsIndex = false): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'assist-local-dynamo-'));
  dirs.push(dir);
  const server = dynalite({ createTableMs: 0, path: dir });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const client = new DynamoDBClient({ endpoint: `http://127.0.0.1:${(server.address() as { port: number }).port}`, ...localAwsConfig });
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        ...(withOpenSessionsIndex ? [{ AttributeName: 'openSession', AttributeType: 'S' as const }] : []),
      ],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      ...(withOpenSessionsIndex && {
        GlobalSecondaryIndexes: [{ IndexName: 'OpenSessions', KeySchema: [{ AttributeName: 'openSession', KeyType: 'HASH' }], Projection: { ProjectionType: 'KEYS_ONLY' } }],
      }),
    }),
  );
  await tableActive(client, tableName);
  const far = { N: String(Math.floor(Date.now() / 1000) + 3600) };
  for (const [id, state] of [['open1', 'waiting'], ['gone', 'ended'], ['open2', 'active']] as const) {
    await client.send(new PutItemCommand({ TableName: tableName, Item: { pk: { S: `SESSION#${id}` }, sessionId: { S: id }, state: { S: state }, expiresAt: far } }));
  }
  await client.send(new PutItemCommand({ TableName: tableName, Item: { pk: { S: 'AUDIT#open1' }, expiresAt: far } }));
  const documents = DynamoDBDocumentClient.from(client);
  for (const item of Object.values(registryItems)) await documents.send(new PutCommand({ TableName: tableName, Item: item }));
  client.destroy();
  await new Promise((resolve) => server.close(resolve));
  return dir;
}

describe('the local database', () => {
  it.each([
    ['the table alone', false],
    ['the OpenSessions index only', true],
  ])('gives an older --data-dir database (%s) its indexes, its items kept, its open sessions and its devices, policies and tokens listed', async (_, withOpenSessionsIndex) => {
    const dir = await olderDatabase('relay-table', withOpenSessionsIndex);
    const dynamo = await startLocalDynamo('relay-table', dir);
    try {
      const store = new DynamoSessionStore(dynamo.client, 'relay-table', () => now);
      const open: string[] = [];
      for await (const session of store.listOpenSessions()) open.push(session.sessionId);
      expect(open.sort()).toEqual(['open1', 'open2']);
      expect((await store.getSession('gone'))?.state).toBe('ended');
      const registry = new DynamoDeviceRegistry(dynamo.client, 'relay-table', () => now);
      expect(await all(registry.listDevicesInGroup('Front desk'))).toEqual([device]);
      expect(await all(registry.listGroupPolicies())).toEqual([policy]);
      expect(await all(registry.listEnrolmentTokens())).toEqual([enrolmentToken]);
    } finally {
      await dynamo.close();
    }
    // Started again, the database is left as it is.
    const again = await startLocalDynamo('relay-table', dir);
    await again.close();
  });
});
