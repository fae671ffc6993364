// StreamReceiver on its own: order restored, messages reassembled, acks' receive state, snapshots.
import { describe, expect, it } from 'vitest';
import { PacketFormatError, type DataPacket } from '../../../../sdk/packets.js';
import { StreamReceiver, type Delivery } from '../../../../sdk/stream/receiver.js';

const bytes = (...values: number[]) => new Uint8Array(values);
const chunk = (...values: number[]): DataPacket => ({ kind: 'chunk', payload: bytes(...values) });
const last = (...values: number[]): DataPacket => ({ kind: 'last-chunk', payload: bytes(...values) });

function arrive(receiver: StreamReceiver, seq: number, packet: DataPacket): Delivery[] {
  receiver.dataArrived(seq, packet);
  return [...receiver.deliverable()];
}

describe('StreamReceiver', () => {
  it('holds packets beyond a gap, reports them as ranges, and delivers everything in order once the gap fills', () => {
    const receiver = new StreamReceiver(8);
    expect(arrive(receiver, 1, last(1))).toEqual([]);
    expect(arrive(receiver, 3, last(3))).toEqual([]);
    expect(receiver.ackState()).toEqual({ cumulative: 0, duplicates: 0, ranges: [{ start: 1, end: 2 }, { start: 3, end: 4 }] });
    expect(receiver.dataArrived(0, last(0))).toEqual({ fillsGap: true, loneInOrder: false });
    expect([...receiver.deliverable()]).toEqual([
      { kind: 'message', message: bytes(0) },
      { kind: 'message', message: bytes(1) },
    ]);
    expect(receiver.ackState()).toEqual({ cumulative: 2, duplicates: 0, ranges: [{ start: 3, end: 4 }] });
  });

  it('reassembles a message from its chunks and hands on whole batches', () => {
    const receiver = new StreamReceiver(8);
    expect(arrive(receiver, 0, chunk(1, 2))).toEqual([]);
    expect(arrive(receiver, 1, last(3))).toEqual([{ kind: 'message', message: bytes(1, 2, 3) }]);
    expect(arrive(receiver, 2, { kind: 'messages', messages: [bytes(4), bytes(5)] })).toEqual([
      { kind: 'message', message: bytes(4) },
      { kind: 'message', message: bytes(5) },
    ]);
    expect(receiver.stats.messagesReceived).toBe(3);
  });

  it('counts duplicates (reported to the sender) and drops packets beyond the reorder buffer', () => {
    const receiver = new StreamReceiver(2);
    arrive(receiver, 0, last(0));
    arrive(receiver, 0, last(0));
    expect(arrive(receiver, 3, last(3))).toEqual([]);
    expect(receiver.stats).toMatchObject({ duplicateFrames: 1, framesBeyondBuffer: 1, reorderBufferedPackets: 0 });
    expect(receiver.ackState()).toEqual({ cumulative: 1, duplicates: 1, ranges: [] });
  });

  it('tells a lone packet in order from one filling a gap', () => {
    const receiver = new StreamReceiver(8);
    expect(receiver.dataArrived(0, last(0))).toEqual({ fillsGap: false, loneInOrder: true });
    expect(receiver.dataArrived(2, last(2))).toEqual({ fillsGap: false, loneInOrder: false });
  });

  it('delivers the close after the data and refuses anything after it, or a close inside a message', () => {
    const receiver = new StreamReceiver(8);
    expect(arrive(receiver, 0, { kind: 'close' })).toEqual([{ kind: 'close' }]);
    expect(receiver.remoteClosed).toBe(true);
    expect(() => arrive(receiver, 1, last(1))).toThrow(PacketFormatError);
    const inside = new StreamReceiver(8);
    arrive(inside, 0, chunk(1));
    expect(() => arrive(inside, 1, { kind: 'close' })).toThrow('close inside a message');
  });

  it('takes only control frames newer than the newest seen', () => {
    const receiver = new StreamReceiver(8);
    expect(receiver.controlArrived(2)).toBe(true);
    expect(receiver.controlArrived(1)).toBe(false);
    expect(receiver.controlArrived(2)).toBe(false);
    expect(receiver.stats.staleControlFrames).toBe(2);
  });

  it('stops where its consumer stops: what was not yielded stays held', () => {
    const receiver = new StreamReceiver(8);
    receiver.dataArrived(1, last(1));
    receiver.dataArrived(0, last(0));
    for (const delivery of receiver.deliverable()) {
      expect(delivery).toEqual({ kind: 'message', message: bytes(0) });
      break;
    }
    expect(receiver.ackState().cumulative).toBe(1);
    expect([...receiver.deliverable()]).toEqual([{ kind: 'message', message: bytes(1) }]);
  });

  it('continues from its snapshot with the same buffer, partial message and close state', () => {
    const receiver = new StreamReceiver(8);
    arrive(receiver, 0, chunk(1));
    arrive(receiver, 2, last(9));
    receiver.controlArrived(4);
    const restored = new StreamReceiver(8, receiver.snapshot());
    expect(restored.snapshot()).toEqual(receiver.snapshot());
    expect(restored.controlArrived(4)).toBe(false);
    expect(arrive(restored, 1, last(2))).toEqual([
      { kind: 'message', message: bytes(1, 2) },
      { kind: 'message', message: bytes(9) },
    ]);
  });
});
