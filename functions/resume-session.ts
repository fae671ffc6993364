import { resumeSession } from '../shared/relay/sessions.js';
import { messageRoute } from './lib/ws-handler.js';
import { dynamo, management } from './lib/clients.js';
import { depsFromEnvironment } from './lib/wiring.js';

export const resumeSessionRoute = messageRoute('resumeSession', resumeSession);
export const handler = resumeSessionRoute(depsFromEnvironment({ dynamo, management }));
