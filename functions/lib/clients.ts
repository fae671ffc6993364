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

function tableClient(config: DynamoDBClientConfig, onClient?: (client: object) => void): DynamoDBClient {
  const client = new DynamoDBClient(config);
  onClient?.(client);
  return client;
}

function sessionAdapters(client: DynamoDBClient, tableName: string, nowSeconds: () => number): TableAdapters {
  return {
    store: new DynamoSessionStore(client, tableName, nowSeconds),
    audit: new DynamoAuditTrail(client, tableName, nowSeconds),
    rateLimiter: new DynamoRateLimiter(client, tableName),
  };
}

/** The table's adapters over one DynamoDB client. */
export function dynamo(config: DynamoDBClientConfig, tableName: string, nowSeconds: () => number, onClient?: (client: object) => void): TableAdapters {
  return sessionAdapters(tableClient(config, onClient), tableName, nowSeconds);
}

/** The same with the device registry: only the device routes' files pass it, so the other bundles do not carry it. */
export function dynamoWithDevices(config: DynamoDBClientConfig, tableName: string, nowSeconds: () => number, onClient?: (client: object) => void): TableAdapters {
  const client = tableClient(config, onClient);
  return { ...sessionAdapters(client, tableName, nowSeconds), devices: new DynamoDeviceRegistry(client, tableName, nowSeconds) };
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
