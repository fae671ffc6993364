import { openConnection } from '../shared/relay/connections.js';
import { lifecycleRoute } from './lib/ws-handler.js';
import { depsFromEnvironment } from './lib/wiring.js';

export const connectRoute = lifecycleRoute(openConnection);
export const handler = connectRoute(depsFromEnvironment());
