// The AWS clients a function can build, one factory each. A function's file passes only those its
// route-table entry names (functions/lib/routes.ts `clients`), so its bundle carries only those.
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import type { ApiGatewayManagementApiClientConfig } from '@aws-sdk/client-apigatewaymanagementapi';
import { ApiGatewayNotifier, createManagementClient } from '../../shared/adapters/api-gateway-notifier.js';
import type { ConnectionNotifier } from '../../shared/ports/connection-notifier.js';
import type { Log } from '../../shared/ports/log.js';
import { DynamoDeviceRegistry } from '../../shared/adapters/dynamo-device-registry.js';
import { DynamoAuditTrail } from '../../shared/adapters/dynamo-audit-trail.js';
import { DynamoRateLimiter } from '../../shared/adapters/dynamo-rate-limiter.js';
import { DynamoSessionStore } from '../../shared/adapters/dynamo-session-store.js';
import type { TableAdapters } from './wiring.js';

/** The table's adapters over one DynamoDB client. */
export function dynamo(config: DynamoDBClientConfig, tableName: string, nowSeconds: () => number, onClient?: (client: object) => void): TableAdapters {
  const client = new DynamoDBClient(config);
  onClient?.(client);
  return {
    store: new DynamoSessionStore(client, tableName, nowSeconds),
    audit: new DynamoAuditTrail(client, tableName, nowSeconds),
    rateLimiter: new DynamoRateLimiter(client, tableName),
    devices: new DynamoDeviceRegistry(client, tableName, nowSeconds),
  };
}

export function management(
  endpoint: string,
  config: Omit<ApiGatewayManagementApiClientConfig, 'endpoint' | 'maxAttempts'>,
  log: Log,
  onClient?: (client: object) => void,
): ConnectionNotifier {
  const client = createManagementClient(endpoint, config);
  onClient?.(client);
  return new ApiGatewayNotifier(client, log);
}
