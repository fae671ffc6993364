import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ApiGatewayNotifier, createManagementClient } from '../../shared/adapters/api-gateway-notifier.js';
import { DynamoSessionStore } from '../../shared/adapters/dynamo-session-store.js';
import { policyFromEnvironment, type RelayPolicy } from '../../shared/config/policy.js';
import type { ConnectionNotifier } from '../../shared/ports/connection-notifier.js';
import { createJsonLog, type Log } from '../../shared/ports/log.js';
import type { RelayDeps } from '../../shared/relay/deps.js';
import { RouteCache } from '../../shared/relay/route-cache.js';
import type { WebSocketEvent } from './events.js';

/** Builds the use cases' dependencies for one event (none for scheduled work such as the sweeper). */
export type DepsResolver = (event?: WebSocketEvent) => RelayDeps;

export interface RelayWiring {
  tableName: string;
  policy: RelayPolicy;
  log: Log;
  /** DynamoDB endpoint override (the local runtime's dynalite). */
  dynamoEndpoint?: string;
  /** @connections endpoint; on AWS derived from the event's domain and stage, or CALLBACK_URL without an event. */
  callbackEndpoint: (event?: WebSocketEvent) => string;
  clock?: () => number;
  /** Region and credentials for the local runtime's clients; on Lambda they come from the environment. */
  awsClientConfig?: { region: string; credentials: { accessKeyId: string; secretAccessKey: string } };
}

/** Creates clients once per container (or local runtime) and reuses them for every event. */
export function createDepsResolver(wiring: RelayWiring): DepsResolver {
  const clock = wiring.clock ?? Date.now;
  const dynamo = new DynamoDBClient({ ...wiring.awsClientConfig, endpoint: wiring.dynamoEndpoint });
  const store = new DynamoSessionStore(dynamo, wiring.tableName, () => Math.floor(clock() / 1000));
  const routes = new RouteCache(wiring.policy.routeCacheSeconds * 1000);
  const notifiers = new Map<string, ConnectionNotifier>();
  return (event) => {
    const endpoint = wiring.callbackEndpoint(event);
    let notifier = notifiers.get(endpoint);
    if (!notifier) {
      notifier = new ApiGatewayNotifier(createManagementClient(endpoint, wiring.awsClientConfig), wiring.log);
      notifiers.set(endpoint, notifier);
    }
    return { store, notifier, policy: wiring.policy, log: wiring.log, clock, routes };
  };
}

function requiredEnvironment(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`environment variable ${name} is not set; the deployment is misconfigured`);
  return value;
}

let fromEnvironment: DepsResolver | undefined;

/** The Lambda wiring: configuration from environment variables set by the CDK stack. */
export const depsFromEnvironment: DepsResolver = (event) => {
  fromEnvironment ??= createDepsResolver({
    tableName: requiredEnvironment('TABLE_NAME'),
    policy: policyFromEnvironment(),
    log: createJsonLog(),
    callbackEndpoint: (event) =>
      event
        ? `https://${event.requestContext.domainName}/${event.requestContext.stage}`
        : requiredEnvironment('CALLBACK_URL'),
  });
  return fromEnvironment(event);
};
