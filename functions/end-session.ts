import { endSession } from '../shared/relay/sessions.js';
import { messageRoute } from './lib/ws-handler.js';
import { dynamo, management } from './lib/clients.js';
import { depsFromEnvironment } from './lib/wiring.js';

export const endSessionRoute = messageRoute('endSession', endSession);
export const handler = endSessionRoute(depsFromEnvironment({ dynamo, management }));
