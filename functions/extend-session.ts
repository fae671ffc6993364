import { extendSession } from '../shared/relay/time-limits.js';
import { messageRoute } from './lib/ws-handler.js';
import { dynamo, management } from './lib/clients.js';
import { depsFromEnvironment } from './lib/wiring.js';

export const extendSessionRoute = messageRoute('extendSession', extendSession);
export const handler = extendSessionRoute(depsFromEnvironment({ dynamo, management }));
