// The one route table (functions/lib/routes.ts): every function the relay deploys, what it runs and what it may do. The CDK stack
// (functions, their Lambda entries, routes, IAM, memory), the local runtime (which use case serves which route
// key, with which grants) and the SDK (which answer each request gets) all read it; test/infra/routes.test.ts
// checks the use cases and the protocol against it. A WebSocket route has no handler file: its Lambda entry is
// derived from its entry here (functions/lib/entries.ts). Adding a route is an entry here and its use case.
//
// Pure data with type-only imports: the SDK, which runs in browsers, reads it too.

import type { ClientAction, ServerMessage } from '../../shared/core/messages.js';
import type { TableIndexName } from '../../shared/server/adapters/table.js';

/** DynamoDB actions a function may be granted; Query only on its `queryIndex`, never on the table; no Scan. */
export type TableAction = 'GetItem' | 'PutItem' | 'UpdateItem' | 'DeleteItem' | 'Query';

/** @connections methods: POST sends a message to a client, DELETE closes its connection, GET asks whether it exists. */
export type ConnectionsMethod = 'POST' | 'DELETE' | 'GET';

/** AWS SDK clients a function's code builds. */
export type SdkClient = 'dynamodb' | 'apigatewaymanagementapi' | 'sesv2';

export interface FunctionSpec {
  /** Exactly the DynamoDB actions its use case performs (see shared/server/adapters/dynamo-session-store.ts). */
  tableActions: readonly TableAction[];
  /** With Query among its actions: the one index it Queries (shared/server/adapters/table.ts). */
  queryIndex?: TableIndexName;
  /** The @connections methods it calls. */
  connections: readonly ConnectionsMethod[];
  clients: readonly SdkClient[];
  /** Lambda memory; CPU scales with it. Default 512 MB. */
  memoryMb?: number;
  /** Default 10 s: a few DynamoDB calls and posts, well inside API Gateway's 29 s. */
  timeoutSeconds?: number;
}

/** A use case of shared/server/use-cases/: `<module>#<export>`, e.g. `sessions#createSession` (shared/server/use-cases/sessions.ts). */
export type UseCaseRef = `${string}#${string}`;

export interface WebSocketRouteSpec extends FunctionSpec {
  /**
   * One-way: the route has no route response, so API Gateway sends the caller nothing back whatever the handler
   * returns; what the handler has to say is posted through @connections. A two-way route's result body is the
   * caller's answer, and a result without one would reach it as an empty message: two-way routes answer every
   * message (functions/lib/ws-handler.ts). One-way are $connect and $disconnect, and the routes that often have
   * nothing to say (a forwarded frame costs no message back) or must say it before what follows (the verdict on
   * a failed attempt comes before the joiner's removal).
   */
  oneWay?: true;
  /**
   * The use case the route runs; its Lambda entry imports it and nothing else of shared/server/use-cases. A client
   * action's use case takes (deps, caller, request), $connect's and $disconnect's (deps, caller); $default has none.
   */
  useCase?: UseCaseRef;
  /** The answer the caller gets on success (the route response); none for one-way messages. */
  reply?: ServerMessage['type'];
}

/** finishSession (any action that finds its session overdue, and the ends) posts "ended", then disconnects. */
const ENDS_SESSIONS = ['POST', 'DELETE'] as const;
const SESSION_ACTION = {
  tableActions: ['GetItem', 'UpdateItem', 'DeleteItem'],
  connections: ENDS_SESSIONS,
  clients: ['dynamodb', 'apigatewaymanagementapi'],
} as const;

/** API Gateway's route keys: `$connect`, `$disconnect`, `$default`, and one per client action. */
export const webSocketRoutes = {
  $connect: { useCase: 'connections#openConnection', oneWay: true, tableActions: ['PutItem'], connections: [], clients: ['dynamodb'] },
  // A joiner that drops before approval is removed: told "ended" and disconnected.
  $disconnect: { useCase: 'connections#closeConnection', oneWay: true, ...SESSION_ACTION },
  $default: { tableActions: [], connections: [], clients: [] },
  // Rate-limit counters and audit entries are UpdateItems; a session and its nameplate are PutItems.
  createSession: {
    useCase: 'sessions#createSession',
    tableActions: ['GetItem', 'PutItem', 'UpdateItem'],
    connections: [],
    clients: ['dynamodb'],
    reply: 'sessionCreated',
  },
  joinSession: { useCase: 'sessions#joinSession', ...SESSION_ACTION, reply: 'sessionJoined' },
  resumeSession: { useCase: 'sessions#resumeSession', ...SESSION_ACTION, reply: 'sessionResumed' },
  // The hot path: more memory, so more CPU.
  frame: { useCase: 'relay-frame#relayFrame', oneWay: true, ...SESSION_ACTION, memoryMb: 1024 },
  approveSession: { useCase: 'consent#approveSession', ...SESSION_ACTION, reply: 'sessionActive' },
  reportFailedAttempt: { useCase: 'consent#reportFailedAttempt', oneWay: true, ...SESSION_ACTION, reply: 'attemptRecorded' },
  recordEvent: { useCase: 'consent#recordEvent', ...SESSION_ACTION, reply: 'eventRecorded' },
  // The person moves the hard limit (up to the cap); the technician is told with a POST.
  extendSession: { useCase: 'time-limits#extendSession', ...SESSION_ACTION, reply: 'sessionExtended' },
  // SES is granted separately, and only when a sender is configured.
  emailInvitation: {
    useCase: 'email-invitation#emailInvitation',
    ...SESSION_ACTION,
    clients: ['dynamodb', 'apigatewaymanagementapi', 'sesv2'],
    reply: 'invitationEmailed',
  },
  listAudit: { useCase: 'audit#listAudit', tableActions: ['GetItem'], connections: [], clients: ['dynamodb'], reply: 'auditLog' },
  endSession: { useCase: 'sessions#endSession', oneWay: true, ...SESSION_ACTION },
  // Spends a use of the enrolment token (UpdateItem, given back if the device cannot be stored) and adds the device (PutItem).
  enrolDevice: { useCase: 'enrolment#enrolDevice', tableActions: ['UpdateItem', 'PutItem'], connections: [], clients: ['dynamodb'], reply: 'deviceEnrolled' },
  // An enrolled device's agent: a one-time challenge kept for its connection (PutItem), the signed answer (the
  // challenge taken with a DeleteItem, the device read and marked signed in here; its earlier connection closed),
  // then heartbeats (a conditional UpdateItem; a GetItem tells a removed device from one signed in elsewhere).
  requestDeviceChallenge: { useCase: 'device-sign-in#requestDeviceChallenge', tableActions: ['PutItem'], connections: [], clients: ['dynamodb'], reply: 'deviceChallenge' },
  signInDevice: {
    useCase: 'device-sign-in#signInDevice',
    tableActions: ['DeleteItem', 'GetItem', 'UpdateItem'],
    connections: ['DELETE'],
    clients: ['dynamodb', 'apigatewaymanagementapi'],
    reply: 'deviceSignedIn',
  },
  deviceHeartbeat: { useCase: 'device-sign-in#deviceHeartbeat', tableActions: ['UpdateItem', 'GetItem'], connections: [], clients: ['dynamodb'], reply: 'deviceHeartbeatAcknowledged' },
  // Help-desk offers (docs/help-desk.md). A technician's list reads who signed in (GetItem), the policies and the
  // permitted groups' devices from their collections (a Query of the Collections index, then a GetItem of each
  // item it names); the offer reads the technician, the session, the device and its policy, keeps the offer
  // (PutItem), audits (UpdateItem) and posts it to the device's agent.
  listOfferableDevices: {
    useCase: 'help-offers#listOfferableDevices',
    tableActions: ['GetItem', 'Query'],
    queryIndex: 'Collections',
    connections: [],
    clients: ['dynamodb'],
    reply: 'offerableDevices',
  },
  offerDevice: {
    useCase: 'help-offers#offerDevice',
    tableActions: ['GetItem', 'PutItem', 'UpdateItem'],
    connections: ['POST'],
    clients: ['dynamodb', 'apigatewaymanagementapi'],
    reply: 'deviceOffered',
  },
  // The device's answer is audited; a denial (or the device's refusal) ends the technician's session.
  answerOffer: { useCase: 'help-offers#answerOffer', ...SESSION_ACTION, reply: 'offerAnswered' },
  // A technician's ticket (minted by the technicianTicket function) is burned with a DeleteItem; who signed in is a PutItem.
  signInTechnician: { useCase: 'technician-sign-in#signInTechnician', tableActions: ['DeleteItem', 'PutItem'], connections: [], clients: ['dynamodb'], reply: 'technicianSignedIn' },
} as const satisfies Record<'$connect' | '$disconnect' | '$default' | ClientAction, WebSocketRouteSpec>;

export type WebSocketRouteKey = keyof typeof webSocketRoutes;

/** A function that serves no WebSocket route has a handler file of its own. */
export interface OtherFunctionSpec extends FunctionSpec {
  /** Its handler file in functions/, without `.ts`. */
  file: string;
}

/**
 * The sweeper (every minute): queries the sparse OpenSessions index (keys only), reads each open
 * session, finishes the overdue ones and frees the seats of connections that are gone without a
 * $disconnect (asked with @connections GET). The HTTPS function: health, discovery, the join page (counted
 * with joins: a rate-limit UpdateItem) and the web console.
 */
export const otherFunctions = {
  sweep: {
    file: 'sweep',
    tableActions: ['Query', 'GetItem', 'UpdateItem', 'DeleteItem'],
    queryIndex: 'OpenSessions',
    // GET: $disconnect is best effort, so the sweeper asks whether a quiet session's connections still exist.
    connections: [...ENDS_SESSIONS, 'GET'],
    clients: ['dynamodb', 'apigatewaymanagementapi'],
    timeoutSeconds: 60,
  },
  http: { file: 'http', tableActions: ['UpdateItem'], connections: [], clients: ['dynamodb'] },
  // POST /technician/ticket: verifies a technician's ID token (the one function that bundles jose) and keeps the ticket's hash.
  technicianTicket: { file: 'technician-ticket', tableActions: ['PutItem'], connections: [], clients: ['dynamodb'] },
} as const satisfies Record<string, OtherFunctionSpec>;

/** Whether a route is one-way (no route response): see WebSocketRouteSpec.oneWay. */
export const isOneWay = (routeKey: WebSocketRouteKey): boolean => (webSocketRoutes[routeKey] as WebSocketRouteSpec).oneWay === true;

type Routes = typeof webSocketRoutes;
/** Each answered request's action → the type of its answer. */
export type ReplyTypeOf = { [Key in keyof Routes as Routes[Key] extends { reply: string } ? Key : never]: Routes[Key] extends { reply: infer Reply } ? Reply : never };

/** The same, as a value (the SDK matches answers with it). */
export const replyTypeOf = Object.fromEntries(
  Object.entries(webSocketRoutes).flatMap(([key, route]) => ('reply' in route ? [[key, route.reply]] : [])),
) as ReplyTypeOf;

/** A WebSocket route's function name (CDK ids, bundles, logs): `createSession` → `create-session`, `$connect` → `connect`. */
export const functionNameOf = (routeKey: string) => routeKey.replace(/^\$/, '').replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);

