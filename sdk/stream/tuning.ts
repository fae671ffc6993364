// The reliable stream's tuning: defaults, and the checks that keep a bad value from failing later.

import { MAX_FRAME_BYTES } from '../../shared/core/messages.js';
import { SEAL_OVERHEAD_BYTES } from '../codec.js';
import { DATA_HEADER_BYTES } from '../packets.js';

export interface StreamTuning {
  /** Sealed bytes sent but not cumulatively acked; bounds sender and receiver memory. */
  windowBytes: number;
  /** Span of data seqs sent but not cumulatively acked. */
  windowPackets: number;
  /** Out-of-order packets the receiver holds; at least the peer's windowPackets, or it drops some. */
  reorderBufferPackets: number;
  /** An ack waits at most this long for more packets to cover... */
  ackDelayMs: number;
  /** ...or until this many data packets arrived. */
  ackEveryPackets: number;
  /**
   * In a conversation (this side sent data since the last packet it received: keys and their echoes), the
   * ack for a lone in-order packet waits up to this long instead, for this side's next data packet to
   * carry it. The sender's retransmission timeout allows for it (it assumes the peer's is the same).
   */
  answerAckDelayMs: number;
  /** Idle time after which a heartbeat goes out; below API Gateway's 10-minute idle timeout. */
  heartbeatIntervalMs: number;
  initialRtoMs: number;
  minRtoMs: number;
  maxRtoMs: number;
  /** Least time beyond a round trip that a packet overtaken by later ones gets before it counts as lost. */
  minReorderWindowMs: number;
  /** Largest sealed frame. */
  maxFrameBytes: number;
}

export const DEFAULT_STREAM_TUNING: Readonly<StreamTuning> = Object.freeze({
  windowBytes: 1024 * 1024,
  windowPackets: 256,
  reorderBufferPackets: 256,
  ackDelayMs: 100,
  ackEveryPackets: 4,
  answerAckDelayMs: 250,
  heartbeatIntervalMs: 60_000,
  initialRtoMs: 1_000,
  minRtoMs: 200,
  maxRtoMs: 30_000,
  minReorderWindowMs: 10,
  maxFrameBytes: MAX_FRAME_BYTES,
});

/** The defaults with `overrides` (keys set to undefined keep their default), checked. */
export function streamTuning(overrides: Partial<StreamTuning>): StreamTuning {
  return validateTuning({ ...DEFAULT_STREAM_TUNING, ...definedOnly(overrides) });
}

function validateTuning(tuning: StreamTuning): StreamTuning {
  for (const [name, value] of Object.entries(tuning)) {
    if (!Number.isFinite(value) || value < 0) throw new RangeError(`${name} must be a finite number ≥ 0, got ${value}`);
  }
  const check = (condition: boolean, message: string) => {
    if (!condition) throw new RangeError(message);
  };
  check(tuning.maxFrameBytes > SEAL_OVERHEAD_BYTES + DATA_HEADER_BYTES, 'maxFrameBytes leaves no room for data');
  check(tuning.windowBytes >= tuning.maxFrameBytes, 'windowBytes must hold at least one frame');
  check(tuning.windowPackets >= 1 && tuning.reorderBufferPackets >= 1, 'window and reorder buffer need at least one packet');
  check(tuning.ackEveryPackets >= 1, 'ackEveryPackets must be at least 1');
  check(tuning.heartbeatIntervalMs > 0, 'heartbeatIntervalMs must be positive');
  check(
    0 < tuning.minRtoMs && tuning.minRtoMs <= tuning.initialRtoMs && tuning.initialRtoMs <= tuning.maxRtoMs,
    'RTOs must satisfy 0 < minRtoMs ≤ initialRtoMs ≤ maxRtoMs',
  );
  return tuning;
}

/** Drops keys explicitly set to undefined so they do not override defaults. */
function definedOnly<T extends object>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as Partial<T>;
}
