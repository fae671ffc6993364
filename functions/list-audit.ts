import { listAudit } from '../shared/relay/audit.js';
import { messageRoute } from './lib/ws-handler.js';
import { dynamo } from './lib/clients.js';
import { depsFromEnvironment } from './lib/wiring.js';

export const listAuditRoute = messageRoute('listAudit', listAudit);
export const handler = listAuditRoute(depsFromEnvironment({ dynamo }));
