import { closeConnection } from '../shared/relay/connections.js';
import { lifecycleRoute } from './lib/ws-handler.js';
import { dynamo, management } from './lib/clients.js';
import { depsFromEnvironment } from './lib/wiring.js';

export const disconnectRoute = lifecycleRoute(closeConnection);
export const handler = disconnectRoute(depsFromEnvironment({ dynamo, management }));
