import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { afterAll, describe, expect, it } from 'vitest';
import { DynamoSessionStore } from '../../shared/server/adapters/dynamo-session-store.js';
import { localAwsConfig, startLocalDynamo, tableActive } from '../../infra/local/dynamo.js';

const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

/** A --data-dir database as releases before the OpenSessions index left it: the table alone, with items. */
async function olderDatabase(tableName: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'assist-local-dynamo-'));
  dirs.push(dir);
  const server = dynalite({ createTableMs: 0, path: dir });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const client = new DynamoDBClient({ endpoint: `http://127.0.0.1:${(server.address() as { port: number }).port}`, ...localAwsConfig });
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
    }),
  );
  await tableActive(client, tableName);
  const far = { N: String(Math.floor(Date.now() / 1000) + 3600) };
  for (const [id, state] of [['open1', 'waiting'], ['gone', 'ended'], ['open2', 'active']] as const) {
    await client.send(new PutItemCommand({ TableName: tableName, Item: { pk: { S: `SESSION#${id}` }, sessionId: { S: id }, state: { S: state }, expiresAt: far } }));
  }
  await client.send(new PutItemCommand({ TableName: tableName, Item: { pk: { S: 'AUDIT#open1' }, expiresAt: far } }));
  client.destroy();
  await new Promise((resolve) => server.close(resolve));
  return dir;
}

describe('the local database', () => {
  it('gives an older --data-dir database the OpenSessions index, its items kept and its open sessions listed', async () => {
    const dir = await olderDatabase('relay-table');
    const dynamo = await startLocalDynamo('relay-table', dir);
    try {
      const store = new DynamoSessionStore(dynamo.client, 'relay-table', () => Math.floor(Date.now() / 1000));
      const open: string[] = [];
      for await (const session of store.listOpenSessions()) open.push(session.sessionId);
      expect(open.sort()).toEqual(['open1', 'open2']);
      expect((await store.getSession('gone'))?.state).toBe('ended');
    } finally {
      await dynamo.close();
    }
    // Started again, the database is left as it is.
    const again = await startLocalDynamo('relay-table', dir);
    await again.close();
  });
});
