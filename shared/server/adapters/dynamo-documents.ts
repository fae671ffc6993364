import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** Every adapter on the one table reads and writes plain objects. */
function documentClient(client: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

const epochSecondsNow = () => Math.floor(Date.now() / 1000);

/** An item of the one table as the document client reads and writes it. */
export type TableItem = Record<string, unknown>;

/** What every adapter on the one table starts from: a document client for it, its name, and a clock. */
export abstract class TableAdapter {
  protected readonly documents: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    protected readonly tableName: string,
    /** Epoch seconds; an item past its `expiresAt` is absent even before TTL deletes it. */
    protected readonly nowSeconds: () => number = epochSecondsNow,
  ) {
    this.documents = documentClient(client);
  }
}

/** Runs a conditional write; a lost condition is an answer (undefined), not an error. */
export async function conditionally<T>(write: () => Promise<T>): Promise<T | undefined> {
  try {
    return await write();
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return undefined;
    throw error;
  }
}
