import { enrolDevice } from '../shared/relay/enrolment.js';
import { messageRoute } from './lib/ws-handler.js';
import { dynamoWithDevices } from './lib/clients.js';
import { depsFromEnvironment } from './lib/wiring.js';

export const enrolDeviceRoute = messageRoute('enrolDevice', enrolDevice);
export const handler = enrolDeviceRoute(depsFromEnvironment({ dynamo: dynamoWithDevices }));
