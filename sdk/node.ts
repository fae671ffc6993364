// Node entry point: Node 20 has no global WebSocket, so this wires the `ws` package into the client
// and into the assistance API's entry points.
import WebSocket from 'ws';
import * as assist from './assist.js';
import * as device from './device.js';
import * as technician from './technician.js';
import { DeviceAgent, type DeviceAgentOptions } from './device-agent.js';
import type { AgentSession, AssistSnapshot, ExpertSession } from './assist-session.js';
import { RelayClient, type RelayClientOptions } from './client.js';

export * from './index.js';

export function createRelayClient(options: Omit<RelayClientOptions, 'WebSocket'>): RelayClient {
  return new RelayClient({ ...options, WebSocket });
}

export const requestHelp = (options: assist.RequestHelpOptions): Promise<assist.HelpRequest> => assist.requestHelp({ WebSocket, ...options });
export const joinHelp = (options: assist.JoinHelpOptions): Promise<ExpertSession> => assist.joinHelp({ WebSocket, ...options });
export const offerHelp = (options: assist.OfferHelpOptions): Promise<assist.HelpOffer> => assist.offerHelp({ WebSocket, ...options });
export const restoreAssistSession = (snapshot: AssistSnapshot, options: assist.RestoreAssistOptions = {}): Promise<AgentSession | ExpertSession> =>
  assist.restoreAssistSession(snapshot, { WebSocket, ...options });
export const acceptHelp = (options: assist.AcceptHelpOptions): Promise<AgentSession> => assist.acceptHelp({ WebSocket, ...options });
export const enrolDevice = (options: device.EnrolDeviceOptions): Promise<device.DeviceEnrolment> => device.enrolDevice({ WebSocket, ...options });
export const listTechnicianDevices = (options: technician.TechnicianDevicesOptions) => technician.listTechnicianDevices({ WebSocket, ...options });
export const createDeviceAgent = (options: Omit<DeviceAgentOptions, 'WebSocket'>): DeviceAgent => new DeviceAgent({ WebSocket, ...options });
