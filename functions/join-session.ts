import { joinSession } from '../shared/relay/sessions.js';
import { messageRoute } from './lib/ws-handler.js';
import { dynamo, management } from './lib/clients.js';
import { depsFromEnvironment } from './lib/wiring.js';

export const joinSessionRoute = messageRoute('joinSession', joinSession);
export const handler = joinSessionRoute(depsFromEnvironment({ dynamo, management }));
