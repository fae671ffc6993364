// The two implementations of each table port, for the contract suites: in memory, and DynamoDB (dynalite,
// a DynamoDB-API server in Node, through the real adapters and AWS SDK). Both read one settable clock.
import { randomUUID } from 'node:crypto';
import { DynamoAuditTrail } from '../../shared/server/adapters/dynamo-audit-trail.js';
import { DynamoDeviceRegistry } from '../../shared/server/adapters/dynamo-device-registry.js';
import { DynamoRateLimiter } from '../../shared/server/adapters/dynamo-rate-limiter.js';
import { DynamoSessionStore } from '../../shared/server/adapters/dynamo-session-store.js';
import { MemoryAuditTrail } from '../../shared/server/adapters/memory-audit-trail.js';
import { MemoryDeviceRegistry } from '../../shared/server/adapters/memory-device-registry.js';
import { MemoryRateLimiter } from '../../shared/server/adapters/memory-rate-limiter.js';
import { MemorySessionStore } from '../../shared/server/adapters/memory-session-store.js';
import type { AuditTrail } from '../../shared/server/ports/audit-trail.js';
import type { DeviceRegistry } from '../../shared/server/ports/device-registry.js';
import type { RateLimiter } from '../../shared/server/ports/rate-limiter.js';
import type { SessionStore } from '../../shared/server/ports/session-store.js';
import { startLocalDynamo, tableActive } from '../../infra/local/dynamo.js';

export interface TableAdapters {
  store: SessionStore;
  audit: AuditTrail;
  rateLimiter: RateLimiter;
  devices: DeviceRegistry;
  /** Epoch seconds, as the adapters read it; tests set it. */
  clock: { now: number };
  close(): Promise<void>;
}

export const adapterKinds: { name: string; start: () => Promise<TableAdapters> }[] = [
  {
    name: 'in memory',
    async start() {
      const clock = { now: 1_900_000_000 };
      const nowSeconds = () => clock.now;
      return {
        store: new MemorySessionStore(nowSeconds),
        audit: new MemoryAuditTrail(nowSeconds),
        rateLimiter: new MemoryRateLimiter(),
        devices: new MemoryDeviceRegistry(nowSeconds),
        clock,
        close: async () => {},
      };
    },
  },
  {
    name: 'DynamoDB (dynalite)',
    async start() {
      const clock = { now: 1_900_000_000 };
      const nowSeconds = () => clock.now;
      const tableName = `contract-${randomUUID()}`;
      const dynamo = await startLocalDynamo(tableName);
      // dynalite makes the table a moment after answering CreateTable.
      await tableActive(dynamo.client, tableName);
      return {
        store: new DynamoSessionStore(dynamo.client, tableName, nowSeconds),
        audit: new DynamoAuditTrail(dynamo.client, tableName, nowSeconds),
        rateLimiter: new DynamoRateLimiter(dynamo.client, tableName),
        devices: new DynamoDeviceRegistry(dynamo.client, tableName, nowSeconds),
        clock,
        close: () => dynamo.close(),
      };
    },
  },
];
