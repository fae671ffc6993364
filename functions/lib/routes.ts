// The one route table (functions/lib/routes.ts): every function the relay deploys, what it runs and what it may do. The CDK stack
// (functions, routes, IAM, memory), the local runtime (which handler serves which route key) and the
// SDK (which answer each request gets) all read it; test/infra/routes.test.ts checks the handler files
// and the protocol against it. Adding a route is an entry here, its handler file and its use case.
//
// Pure data with type-only imports: the SDK, which runs in browsers, reads it too.

import type { ClientAction, ServerMessage } from '../../shared/protocol/messages.js';

/** DynamoDB actions a function may be granted; Query only on the sparse OpenSessions index. */
export type TableAction = 'GetItem' | 'PutItem' | 'UpdateItem' | 'DeleteItem' | 'Query';

/** @connections methods: POST sends a message to a client, DELETE closes its connection. */
export type ConnectionsMethod = 'POST' | 'DELETE';

/** AWS SDK clients a function's code builds. */
export type SdkClient = 'dynamodb' | 'apigatewaymanagementapi' | 'sesv2';

export interface FunctionSpec {
  /** Handler file in functions/, without `.ts`. */
  file: string;
  /** The use case it runs (shared/relay/), for readers; the handler file wires it. */
  useCase: string;
  /** Exactly the DynamoDB actions its use case performs (see shared/adapters/dynamo-session-store.ts). */
  tableActions: readonly TableAction[];
  /** The @connections methods it calls. */
  connections: readonly ConnectionsMethod[];
  clients: readonly SdkClient[];
  /** Lambda memory; CPU scales with it. Default 512 MB. */
  memoryMb?: number;
  /** Default 10 s: a few DynamoDB calls and posts, well inside API Gateway's 29 s. */
  timeoutSeconds?: number;
}

export interface WebSocketRouteSpec extends FunctionSpec {
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
  $connect: { file: 'connect', useCase: 'openConnection', tableActions: ['PutItem'], connections: [], clients: ['dynamodb'] },
  // A joiner that drops before approval is removed: told "ended" and disconnected.
  $disconnect: { file: 'disconnect', useCase: 'closeConnection', ...SESSION_ACTION },
  $default: { file: 'default', useCase: 'unknown-action refusal', tableActions: [], connections: [], clients: [] },
  // Rate-limit counters and audit entries are UpdateItems; a session and its nameplate are PutItems.
  createSession: {
    file: 'create-session',
    useCase: 'createSession',
    tableActions: ['GetItem', 'PutItem', 'UpdateItem'],
    connections: [],
    clients: ['dynamodb'],
    reply: 'sessionCreated',
  },
  joinSession: { file: 'join-session', useCase: 'joinSession', ...SESSION_ACTION, reply: 'sessionJoined' },
  resumeSession: { file: 'resume-session', useCase: 'resumeSession', ...SESSION_ACTION, reply: 'sessionResumed' },
  // The hot path: more memory, so more CPU.
  frame: { file: 'frame', useCase: 'relayFrame', ...SESSION_ACTION, memoryMb: 1024 },
  approveSession: { file: 'approve-session', useCase: 'approveSession', ...SESSION_ACTION, reply: 'sessionActive' },
  reportFailedAttempt: { file: 'report-failed-attempt', useCase: 'reportFailedAttempt', ...SESSION_ACTION, reply: 'attemptRecorded' },
  recordEvent: { file: 'record-event', useCase: 'recordEvent', ...SESSION_ACTION, reply: 'eventRecorded' },
  // The person moves the hard limit (up to the cap); the technician is told with a POST.
  extendSession: { file: 'extend-session', useCase: 'extendSession', ...SESSION_ACTION, reply: 'sessionExtended' },
  // SES is granted separately, and only when a sender is configured.
  emailInvitation: {
    file: 'email-invitation',
    useCase: 'emailInvitation',
    ...SESSION_ACTION,
    clients: ['dynamodb', 'apigatewaymanagementapi', 'sesv2'],
    reply: 'invitationEmailed',
  },
  listAudit: { file: 'list-audit', useCase: 'listAudit', tableActions: ['GetItem'], connections: [], clients: ['dynamodb'], reply: 'auditLog' },
  endSession: { file: 'end-session', useCase: 'endSession', ...SESSION_ACTION },
  // Spends a use of the enrolment token (UpdateItem, given back if the device cannot be stored) and adds the device (PutItem).
  enrolDevice: {
    file: 'enrol-device',
    useCase: 'enrolDevice',
    tableActions: ['UpdateItem', 'PutItem'],
    connections: [],
    clients: ['dynamodb'],
    reply: 'deviceEnrolled',
  },
} as const satisfies Record<'$connect' | '$disconnect' | '$default' | ClientAction, WebSocketRouteSpec>;

export type WebSocketRouteKey = keyof typeof webSocketRoutes;

/**
 * The sweeper (every minute): queries the sparse OpenSessions index (keys only), reads each open
 * session and finishes the overdue ones. The HTTPS function: health, discovery, the join page (counted
 * with joins: a rate-limit UpdateItem) and the web console.
 */
export const otherFunctions = {
  sweep: {
    file: 'sweep',
    useCase: 'sweepOverdueSessions',
    tableActions: ['Query', 'GetItem', 'UpdateItem', 'DeleteItem'],
    connections: ENDS_SESSIONS,
    clients: ['dynamodb', 'apigatewaymanagementapi'],
    timeoutSeconds: 60,
  },
  http: { file: 'http', useCase: 'invitation pages and the web console', tableActions: ['UpdateItem'], connections: [], clients: ['dynamodb'] },
} as const satisfies Record<string, FunctionSpec>;

type Routes = typeof webSocketRoutes;
/** Each answered request's action → the type of its answer. */
export type ReplyTypeOf = { [Key in keyof Routes as Routes[Key] extends { reply: string } ? Key : never]: Routes[Key] extends { reply: infer Reply } ? Reply : never };

/** The same, as a value (the SDK matches answers with it). */
export const replyTypeOf = Object.fromEntries(
  Object.entries(webSocketRoutes).flatMap(([key, route]) => ('reply' in route ? [[key, route.reply]] : [])),
) as ReplyTypeOf;

/**
 * The export of a WebSocket route's handler file that builds its handler from a deps resolver
 * (`create-session` → `createSessionRoute`); the local runtime finds each route's handler by it.
 */
export const routeFactoryName = (file: string) => `${file.replace(/-(\w)/g, (_match, letter: string) => letter.toUpperCase())}Route`;
