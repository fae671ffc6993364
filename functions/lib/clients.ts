// The AWS clients a function can build, one factory each. A function's file passes only those its
// route-table entry names (functions/lib/routes.ts `clients`), so its bundle carries only those.
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { SESv2Client, type SESv2ClientConfig } from '@aws-sdk/client-sesv2';
import type { ApiGatewayManagementApiClientConfig } from '@aws-sdk/client-apigatewaymanagementapi';
import { ApiGatewayNotifier, createManagementClient } from '../../shared/server/adapters/api-gateway-notifier.js';
import type { ConnectionNotifier } from '../../shared/server/ports/connection-notifier.js';
import type { Log } from '../../shared/server/ports/log.js';
import { DynamoDeviceRegistry } from '../../shared/server/adapters/dynamo-device-registry.js';
import { DynamoAuditTrail } from '../../shared/server/adapters/dynamo-audit-trail.js';
import { DynamoRateLimiter } from '../../shared/server/adapters/dynamo-rate-limiter.js';
import { DynamoSessionStore } from '../../shared/server/adapters/dynamo-session-store.js';
import { DynamoTechnicianRegistry } from '../../shared/server/adapters/dynamo-technician-registry.js';
import { SesMailer, type SesMailerOptions } from '../../shared/server/adapters/ses-mailer.js';
import type { Mailer } from '../../shared/server/ports/mailer.js';
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
    technicians: new DynamoTechnicianRegistry(client, tableName),
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

/** The mailer over an SES v2 client (the email route's only). */
export function ses(config: SESv2ClientConfig, sender: SesMailerOptions, log: Log, onClient?: (client: object) => void): Mailer {
  const client = new SESv2Client(config);
  onClient?.(client);
  return new SesMailer(client, sender, log);
}
