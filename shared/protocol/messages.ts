// Wire protocol between clients and the relay. Every WebSocket message is one JSON text message;
// API Gateway selects the route from `action` (route selection expression `$request.body.action`).
// Frame payloads are opaque bytes to the relay, carried as base64 so the text-only routes stay binary-safe.

export const PROTOCOL_VERSION = 1;

/** Largest base64 `data` string in one frame: keeps each WebSocket message within API Gateway's 32 KB frame. */
export const MAX_FRAME_DATA_CHARS = 32_000 - 64;
/** Largest raw payload per frame that fits MAX_FRAME_DATA_CHARS once base64-encoded. */
export const MAX_FRAME_BYTES = Math.floor(MAX_FRAME_DATA_CHARS / 4) * 3;

export type Role = 'agent' | 'expert';

export const clientActions = ['createSession', 'joinSession', 'resumeSession', 'frame', 'endSession'] as const;
export type ClientAction = (typeof clientActions)[number];

export interface CreateSessionRequest {
  action: 'createSession';
  /** Requested hard lifetime; the relay caps it with its policy. */
  ttlSeconds?: number;
}
export interface JoinSessionRequest {
  action: 'joinSession';
  nameplate: string;
}
export interface ResumeSessionRequest {
  action: 'resumeSession';
  sessionId: string;
  resumeToken: string;
}
export interface FrameRequest {
  action: 'frame';
  data: string;
}
export interface EndSessionRequest {
  action: 'endSession';
}
export type ClientMessage =
  | CreateSessionRequest
  | JoinSessionRequest
  | ResumeSessionRequest
  | FrameRequest
  | EndSessionRequest;

/** Reasons a session ends, as both sides are told. */
export type EndReason =
  | 'ended-by-agent'
  | 'ended-by-expert'
  | 'expired'
  | 'idle-timeout'
  | 'peer-gone'
  | 'burned';

export type ErrorCode =
  | 'malformed-json'
  | 'invalid-request'
  | 'unknown-action'
  | 'frame-too-large'
  | 'message-too-large'
  | 'not-in-session'
  | 'already-in-session'
  | 'session-not-found'
  | 'session-ended'
  | 'session-expired'
  | 'role-taken'
  | 'invalid-resume-token'
  | 'peer-unavailable'
  | 'rate-limited'
  | 'internal';

export interface SessionInfo {
  sessionId: string;
  role: Role;
  /** Resume token for this participant: shown once, stored only as a hash by the relay. */
  resumeToken: string;
  /** Epoch seconds of the hard expiry. */
  expiresAt: number;
  idleTimeoutSeconds: number;
  /** How long after a connection drops this participant may resume. */
  resumeGraceSeconds: number;
  peerConnected: boolean;
}

export type ServerMessage =
  | ({ type: 'sessionCreated'; nameplate: string } & SessionInfo)
  | ({ type: 'sessionJoined'; nameplate: string } & SessionInfo)
  | ({ type: 'sessionResumed' } & Omit<SessionInfo, 'resumeToken'>)
  | { type: 'frame'; data: string }
  | { type: 'peer'; state: 'connected' | 'disconnected' }
  | { type: 'ended'; reason: EndReason }
  | { type: 'error'; code: ErrorCode; message: string; requestAction?: string; endReason?: EndReason };
