import { mkdirSync } from 'node:fs';
import {
  BatchWriteItemCommand,
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  type AttributeValue,
  type WriteRequest,
  DynamoDBClient,
  ResourceInUseException,
  ResourceNotFoundException,
  paginateScan,
} from '@aws-sdk/client-dynamodb';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { tableSchema } from '../../shared/server/adapters/table.js';
import { fileIntoCollections } from '../upgrade-table.js';

const { openSessionsIndex, collectionsIndex } = tableSchema;
const indexDefinitions = [
  {
    IndexName: openSessionsIndex.name,
    KeySchema: [{ AttributeName: openSessionsIndex.partitionKey, KeyType: 'HASH' as const }],
    Projection: { ProjectionType: 'KEYS_ONLY' as const },
  },
  {
    IndexName: collectionsIndex.name,
    KeySchema: [
      { AttributeName: collectionsIndex.partitionKey, KeyType: 'HASH' as const },
      { AttributeName: collectionsIndex.sortKey, KeyType: 'RANGE' as const },
    ],
    Projection: { ProjectionType: 'KEYS_ONLY' as const },
  },
];

async function tableStatus(client: DynamoDBClient, tableName: string): Promise<string | undefined> {
  try {
    return (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table?.TableStatus;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return undefined;
    throw error;
  }
}

/** dynalite creates a table a moment after answering CreateTable, even with createTableMs 0: wait for it. */
export async function tableActive(client: DynamoDBClient, tableName: string): Promise<void> {
  await until(async () => (await tableStatus(client, tableName)) === 'ACTIVE');
}

async function until(done: () => Promise<boolean>): Promise<void> {
  for (let attempt = 0; !(await done()); attempt++) {
    if (attempt >= 500) throw new Error('the local database did not finish rebuilding its table');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function createTable(client: DynamoDBClient, tableName: string) {
  return client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: tableSchema.partitionKey, AttributeType: 'S' },
        { AttributeName: openSessionsIndex.partitionKey, AttributeType: 'S' },
        { AttributeName: collectionsIndex.partitionKey, AttributeType: 'S' },
        { AttributeName: collectionsIndex.sortKey, AttributeType: 'S' },
      ],
      KeySchema: [{ AttributeName: tableSchema.partitionKey, KeyType: 'HASH' }],
      GlobalSecondaryIndexes: indexDefinitions,
    }),
  );
}

async function writeAll(client: DynamoDBClient, tableName: string, requests: WriteRequest[]): Promise<void> {
  for (let i = 0; i < requests.length; i += 25) {
    await client.send(new BatchWriteItemCommand({ RequestItems: { [tableName]: requests.slice(i, i + 25) } }));
  }
}

/**
 * A table kept by `--data-dir` from before one of the indexes gets it. dynalite cannot add an index to a
 * table, so the table is copied out, created again with them, and written back, its open sessions marked
 * and its devices, policies and enrolment tokens filed into their collections (as `npm run operator --
 * upgrade-table` does on AWS).
 */
async function addMissingIndexes(client: DynamoDBClient, tableName: string): Promise<void> {
  const { Table: table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
  const present = new Set(table?.GlobalSecondaryIndexes?.map((index) => index.IndexName));
  if (indexDefinitions.every((index) => present.has(index.IndexName))) return;
  const items: Array<Record<string, AttributeValue>> = [];
  for await (const page of paginateScan({ client }, { TableName: tableName })) items.push(...(page.Items ?? []));
  await client.send(new DeleteTableCommand({ TableName: tableName }));
  // dynalite finishes deleting and creating a table on a timer after answering: wait for each.
  await until(async () => !(await tableStatus(client, tableName)));
  await createTable(client, tableName);
  await tableActive(client, tableName);
  const isOpenSession = (item: Record<string, AttributeValue>) =>
    item[tableSchema.partitionKey]?.S?.startsWith('SESSION#') && item.state?.S !== 'ended';
  await writeAll(
    client,
    tableName,
    items.map((item) => ({
      PutRequest: { Item: isOpenSession(item) ? { ...item, [openSessionsIndex.partitionKey]: { S: openSessionsIndex.value } } : item },
    })),
  );
  await fileIntoCollections(client, tableName);
}

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

/**
 * dynalite's server in a worker thread of its own: it answers the handlers' DynamoDB requests over HTTP as
 * before, but its work (parsing expressions, the level store) no longer shares the relay's event loop, which
 * then serves frames only. On its own thread it cannot starve the frames, nor be starved by them (sessions
 * set up while others type timed out waiting for it). Plain CommonJS, so it runs the same under tsx, vitest
 * or node; it counts the requests it serves in shared memory.
 */
const workerSource = `
const { parentPort, workerData } = require('node:worker_threads');
const server = require(workerData.dynalite)(workerData.options);
const served = new Int32Array(workerData.served);
server.on('request', () => Atomics.add(served, 0, 1));
server.once('error', (error) => parentPort.postMessage({ type: 'failed', message: error.message }));
server.listen(0, '127.0.0.1', () => parentPort.postMessage({ type: 'listening', port: server.address().port }));
parentPort.once('message', () => server.close(() => parentPort.postMessage({ type: 'closed' })));
`;

type WorkerReport = { type: 'listening'; port: number } | { type: 'failed'; message: string } | { type: 'closed' };

/** Starts dynalite on loopback in a worker thread (in memory, or persisted in dataDir) and creates the table. */
export async function startLocalDynamo(tableName: string, dataDir?: string): Promise<LocalDynamo> {
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const served = new SharedArrayBuffer(4);
  const worker = new Worker(workerSource, {
    eval: true,
    workerData: {
      dynalite: createRequire(import.meta.url).resolve('dynalite'),
      options: { createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, ...(dataDir ? { path: dataDir } : {}) },
      served,
    },
  });
  // It never keeps the process alive by itself, and it ends with the process: no orphan to clean up. Once
  // started, a failure in it is an uncaught error of the relay, as when it shared the relay's thread.
  worker.unref();
  const report = async () => ((await once(worker, 'message')) as [WorkerReport])[0];
  const started = await report();
  if (started.type !== 'listening') {
    await worker.terminate();
    throw new Error(`the local database (dynalite) did not start: ${started.type === 'failed' ? started.message : 'it stopped'}`);
  }
  const requests = new Int32Array(served);
  const endpoint = `http://127.0.0.1:${started.port}`;
  const client = new DynamoDBClient({ endpoint, ...localAwsConfig });
  try {
    await createTable(client, tableName);
  } catch (error) {
    // A persisted data directory already has the table; one from before an index gets it.
    if (!(error instanceof ResourceInUseException)) throw error;
    await addMissingIndexes(client, tableName);
  }

  return {
    endpoint,
    client,
    requestCount: () => Atomics.load(requests, 0),
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
        await writeAll(client, tableName, keys.map((Key) => ({ DeleteRequest: { Key } })));
        deleted += keys.length;
      }
      return deleted;
    },
    async close() {
      client.destroy();
      // dynalite closes its store (a --data-dir database is left whole), then the thread goes.
      const closed = report();
      worker.postMessage('close');
      await closed;
      await worker.terminate();
    },
  };
}
