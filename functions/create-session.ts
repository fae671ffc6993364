import { createSession } from '../shared/relay/sessions.js';
import { messageRoute } from './lib/ws-handler.js';
import { dynamo } from './lib/clients.js';
import { depsFromEnvironment } from './lib/wiring.js';

export const createSessionRoute = messageRoute('createSession', createSession);
export const handler = createSessionRoute(depsFromEnvironment({ dynamo }));
