import { fallbackRoute } from './lib/ws-handler.js';
import { depsFromEnvironment } from './lib/wiring.js';

export const defaultRoute = fallbackRoute();
export const handler = defaultRoute(depsFromEnvironment({}));
