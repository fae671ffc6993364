import { resumeSession } from '../shared/relay/sessions.js';
import { messageRoute } from './lib/ws-handler.js';
import { depsFromEnvironment } from './lib/wiring.js';

export const resumeSessionRoute = messageRoute('resumeSession', resumeSession);
export const handler = resumeSessionRoute(depsFromEnvironment());
