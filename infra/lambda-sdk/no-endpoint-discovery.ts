// Bundled in place of @aws-sdk/middleware-endpoint-discovery (see infra/constructs/bundling.ts). The DynamoDB
// client still resolves an endpoint-discovery configuration, with a 1000-entry LRU cache, but no middleware of
// the pinned SDK reads it: requests go to the regional endpoint either way. This keeps the setting's shape and
// drops the cache and its dependencies (about 9 KB).

/** No source turns discovery on; an explicit `endpointDiscoveryEnabled` in client config is kept as given. */
export const NODE_ENDPOINT_DISCOVERY_CONFIG_OPTIONS = {
  environmentVariableSelector: (): undefined => undefined,
  configFileSelector: (): undefined => undefined,
  default: undefined,
};

export const resolveEndpointDiscoveryConfig = <T extends object>(input: T): T => input;
