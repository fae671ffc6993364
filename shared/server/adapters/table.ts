/** The one table's shape, shared by the CDK stack and the local runtime so they cannot drift. */
export const tableSchema = {
  partitionKey: 'pk',
  /** Epoch seconds; DynamoDB TTL deletes items after it (up to ~48 h late, so reads check it too). */
  timeToLiveAttribute: 'expiresAt',
  /**
   * A sparse, keys-only index of the sessions not yet ended, so the sweeper reads only those (never the
   * connections, nameplates, counters or 30 days of audit logs a table scan would). A session carries
   * the index's key attribute from creation until it ends; ending it removes the attribute, which takes
   * it out of the index.
   */
  openSessionsIndex: { name: 'OpenSessions', partitionKey: 'openSession', value: 'open' },
} as const;
