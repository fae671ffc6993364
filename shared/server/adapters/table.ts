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
  /**
   * A sparse, keys-only index of the items the operator and technicians list: the enrolled devices, the
   * group policies and the enrolment tokens, each kind an item collection of its own (partition key: the
   * collection; sort key: the member, a device's `<group>#<device id>`). A listing Queries its collection
   * and reads the items it names, never the sessions and audit logs a table scan would. Keys only, so a
   * device's heartbeat (which changes no key) writes nothing to the index.
   */
  collectionsIndex: { name: 'Collections', partitionKey: 'collection', sortKey: 'member' },
} as const;

/** The table's indexes, which the route table names for each function that Queries one. */
export type TableIndexName = (typeof tableSchema)['openSessionsIndex' | 'collectionsIndex']['name'];
