// `npm run operator -- upgrade-table` (docs/deploy.md): files the devices, policies and enrolment tokens of a table
// written before the Collections index into their collections, so that the lists (which Query the index) find
// them. Operator-only, with the operator's credentials: no relay function may Scan, nor carries this code.
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, paginateScan, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { COLLECTED_PREFIXES, membershipOf } from '../shared/server/adapters/dynamo-device-registry.js';
import { conditionally } from '../shared/server/adapters/dynamo-documents.js';
import { tableSchema } from '../shared/server/adapters/table.js';

const { partitionKey: collection, sortKey: member } = tableSchema.collectionsIndex;

/** Reads the whole table once and files each listed kind of item not filed yet; returns how many. Safe to repeat. */
export async function fileIntoCollections(client: DynamoDBClient, tableName: string): Promise<number> {
  const documents = DynamoDBDocumentClient.from(client);
  const prefixes = Object.fromEntries(COLLECTED_PREFIXES.map((prefix, index) => [`:prefix${index}`, prefix]));
  const pages = paginateScan(
    { client: documents },
    {
      TableName: tableName,
      FilterExpression: `(${Object.keys(prefixes).map((name) => `begins_with(pk, ${name})`).join(' OR ')}) AND attribute_not_exists(#collection)`,
      ExpressionAttributeNames: { '#collection': collection },
      ExpressionAttributeValues: prefixes,
    },
  );
  let filed = 0;
  for await (const page of pages) {
    for (const item of page.Items ?? []) {
      const membership = membershipOf(item)!;
      const updated = await conditionally(() =>
        documents.send(
          new UpdateCommand({
            TableName: tableName,
            Key: { pk: item.pk },
            UpdateExpression: 'SET #collection = :collection, #member = :member',
            // Not for an item deleted meanwhile: an update would make an item of the remains.
            ConditionExpression: 'attribute_exists(pk)',
            ExpressionAttributeNames: { '#collection': collection, '#member': member },
            ExpressionAttributeValues: { ':collection': membership[collection], ':member': membership[member] },
          }),
        ),
      );
      if (updated) filed++;
    }
  }
  return filed;
}
