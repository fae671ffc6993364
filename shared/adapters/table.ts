/** The one table's shape, shared by the CDK stack and the local runtime so they cannot drift. */
export const tableSchema = {
  partitionKey: 'pk',
  /** Epoch seconds; DynamoDB TTL deletes items after it (up to ~48 h late, so reads check it too). */
  timeToLiveAttribute: 'expiresAt',
} as const;
