import { mkdirSync } from 'node:fs';
import {
  BatchWriteItemCommand,
  CreateTableCommand,
  DynamoDBClient,
  ResourceInUseException,
  paginateScan,
} from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { tableSchema } from '../../shared/adapters/table.js';

/** Local AWS clients need a region and credentials, which dynalite and the gateway ignore. */
export const localAwsConfig = {
  region: 'local',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
};

export interface LocalDynamo {
  endpoint: string;
  client: DynamoDBClient;
  /** DynamoDB API requests served, for benchmarks (store calls per relayed frame). */
  requestCount(): number;
  /** Deletes items past their TTL, as DynamoDB's TTL would; returns how many. */
  deleteExpiredItems(nowSeconds: number): Promise<number>;
  close(): Promise<void>;
}

/** Starts dynalite on loopback (in memory, or persisted in dataDir) and creates the table. */
export async function startLocalDynamo(tableName: string, dataDir?: string): Promise<LocalDynamo> {
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, ...(dataDir ? { path: dataDir } : {}) });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  let requests = 0;
  server.on('request', () => requests++);
  const { port } = server.address() as { port: number };
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({ endpoint, ...localAwsConfig });
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: tableSchema.partitionKey, AttributeType: 'S' }],
        KeySchema: [{ AttributeName: tableSchema.partitionKey, KeyType: 'HASH' }],
      }),
    );
  } catch (error) {
    // A persisted data directory already has the table.
    if (!(error instanceof ResourceInUseException)) throw error;
  }

  return {
    endpoint,
    client,
    requestCount: () => requests,
    async deleteExpiredItems(nowSeconds) {
      let deleted = 0;
      const pages = paginateScan(
        { client },
        {
          TableName: tableName,
          ProjectionExpression: '#pk',
          FilterExpression: '#ttl <= :now',
          ExpressionAttributeNames: { '#pk': tableSchema.partitionKey, '#ttl': tableSchema.timeToLiveAttribute },
          ExpressionAttributeValues: { ':now': { N: String(nowSeconds) } },
        },
      );
      for await (const page of pages) {
        const keys = page.Items ?? [];
        for (let i = 0; i < keys.length; i += 25) {
          const batch = keys.slice(i, i + 25).map((Key) => ({ DeleteRequest: { Key } }));
          await client.send(new BatchWriteItemCommand({ RequestItems: { [tableName]: batch } }));
          deleted += batch.length;
        }
      }
      return deleted;
    },
    async close() {
      client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
