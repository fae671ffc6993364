// Public API of the client SDK; runs in Node ≥ 20 and browsers. Node users import sdk/node.js instead.
export {
  RelayClient,
  DEFAULT_RECONNECT_POLICY,
  creatorOf,
  type Activation,
  type AttemptVerdict,
  type CreateSessionOptions,
  type EstablishedSession,
  type LocalEndReason,
  type ReconnectPolicy,
  type RelayClientEvents,
  type RelayClientOptions,
  type RelayClientStats,
  type ResumedSession,
  type SessionEnd,
  type StreamBinding,
} from './client.js';
export { RelayError, type WebSocketConstructor, type WebSocketLike } from './connection.js';
export {
  createPlainCodec,
  FrameAuthError,
  FRAME_FORMAT_AES_256_GCM,
  MAX_BODY_BYTES,
  PLAIN_FRAME_FORMAT,
  SEAL_OVERHEAD_BYTES,
  type FrameAuthErrorCode,
  type FrameCodec,
  type OpenedFrame,
  type Space,
} from './codec.js';
export {
  establishSecureSession,
  SecureSessionError,
  type SecureSession,
  type SecureSessionErrorCode,
  type SecureSessionOptions,
} from './secure-session.js';
export {
  ReliableStream,
  DEFAULT_STREAM_TUNING,
  type ReliableStreamOptions,
  type StreamEvents,
  type StreamStats,
  type StreamTuning,
} from './stream.js';
export { systemClock, type CancelTimer, type Clock } from './clock.js';
