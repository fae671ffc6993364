// StreamSender on its own: batching, the window, what acks settle, snapshots. No clock, no codec.
import { describe, expect, it } from 'vitest';
import { decodeDataPacket, MESSAGE_LENGTH_BYTES, PacketFormatError } from '../../../../sdk/packets.js';
import { StreamSender } from '../../../../sdk/stream/sender.js';

const window = { windowPackets: 4, windowBytes: 1 << 20 };
const bytes = (length: number, fill = 1) => new Uint8Array(length).fill(fill);

/** Seals (here: keeps the body as the frame) and commits the sender's next packet, as the stream's fill loop does. */
function sealNext(sender: StreamSender, room = 1000) {
  const next = sender.next(room, undefined);
  if (!next) return undefined;
  const seq = sender.nextSeq;
  const packet = sender.sealed(next.body);
  next.commit(seq);
  next.accepted?.();
  return { seq, packet, body: decodeDataPacket(next.body) };
}

describe('StreamSender', () => {
  it('batches small messages queued together into one packet, and resolves their sends once it is in the window', async () => {
    const sender = new StreamSender(window);
    const accepted = [sender.enqueue(bytes(10, 1)), sender.enqueue(bytes(20, 2))];
    const sealed = sealNext(sender)!;
    expect(sealed.body).toMatchObject({ kind: 'messages', messages: [bytes(10, 1), bytes(20, 2)] });
    await expect(Promise.all(accepted)).resolves.toBeDefined();
    expect(sender.stats).toEqual({ messagesSent: 2, queuedBytes: 0, inFlightBytes: sealed.packet.frame.length, inFlightPackets: 1 });
    expect(sealNext(sender)).toBeUndefined();
  });

  it('cuts a message larger than the room into chunks, resolving its send with the last one', async () => {
    const sender = new StreamSender(window);
    let accepted = false;
    void sender.enqueue(bytes(250)).then(() => (accepted = true));
    const kinds: string[] = [];
    for (let sealed = sealNext(sender, 100); sealed; sealed = sealNext(sender, 100)) {
      kinds.push(sealed.body.kind);
      await Promise.resolve();
      expect(accepted).toBe(sealed.body.kind === 'last-chunk');
    }
    expect(kinds).toEqual(['chunk', 'chunk', 'last-chunk']);
  });

  it('takes two small messages whole only while both fit the room with their lengths', () => {
    const sender = new StreamSender(window);
    void sender.enqueue(bytes(10));
    void sender.enqueue(bytes(10));
    expect(decodeDataPacket(sender.next(2 * (MESSAGE_LENGTH_BYTES + 10), undefined)!.body).kind).toBe('messages');
    expect(decodeDataPacket(sender.next(2 * (MESSAGE_LENGTH_BYTES + 10) - 1, undefined)!.body).kind).toBe('last-chunk');
  });

  it('has room for no more packets than windowPackets until an ack moves the base', () => {
    const sender = new StreamSender(window);
    for (let i = 0; i < 5; i++) void sender.enqueue(bytes(600, i));
    for (let i = 0; i < 4; i++) {
      sealNext(sender);
      expect(sender.hasRoomFor(bytes(1))).toBe(i < 3);
    }
    expect(sender.acked({ cumulative: 1, duplicates: 0, ranges: [] })).toHaveLength(1);
    expect(sender.hasRoomFor(bytes(1))).toBe(true);
  });

  it('reports what an ack delivers for the first time, cumulatively or selectively, and nothing for a repeat', () => {
    const sender = new StreamSender(window);
    for (let i = 0; i < 4; i++) void sender.enqueue(bytes(600, i));
    const packets = [0, 1, 2, 3].map(() => sealNext(sender)!.packet);
    for (const packet of packets) sender.transmitted(packet, 0);
    expect(sender.acked({ cumulative: 0, duplicates: 0, ranges: [{ start: 2, end: 3 }] })).toEqual([packets[2]]);
    expect([...sender.outstanding()]).toEqual([packets[0], packets[1], packets[3]]);
    expect(sender.acked({ cumulative: 0, duplicates: 0, ranges: [{ start: 2, end: 3 }] })).toBeUndefined();
    // The selectively acked packet is not delivered twice when the cumulative ack passes it.
    expect(sender.acked({ cumulative: 3, duplicates: 0, ranges: [] })).toEqual([packets[0], packets[1]]);
    expect(() => sender.acked({ cumulative: 5, duplicates: 0, ranges: [] })).toThrow(PacketFormatError);
  });

  it('counts a packet sent again as a retransmission and orders transmissions for loss detection', () => {
    const sender = new StreamSender(window);
    void sender.enqueue(bytes(600, 1));
    void sender.enqueue(bytes(600, 2));
    const [first, second] = [sealNext(sender)!.packet, sealNext(sender)!.packet];
    expect(sender.transmitted(first!, 10)).toBe(false);
    expect(sender.transmitted(second!, 20)).toBe(false);
    expect(sender.oldestOutstanding()).toBe(first);
    expect(sender.transmitted(first!, 30)).toBe(true);
    expect(first).toMatchObject({ transmissions: 2, lastSentAt: 30, lastSendOrder: 3 });
    expect(sender.oldestOutstanding()).toBe(second);
  });

  it('sends the close after the queue and resolves end() once the peer acked it', async () => {
    const sender = new StreamSender(window);
    void sender.enqueue(bytes(5));
    let ended = false;
    void sender.end().then(() => (ended = true));
    expect(sealNext(sender)!.body.kind).toBe('last-chunk');
    expect(sealNext(sender)!.body.kind).toBe('close');
    expect(sealNext(sender)).toBeUndefined();
    sender.acked({ cumulative: 1, duplicates: 0, ranges: [] });
    await Promise.resolve();
    expect(ended).toBe(false);
    sender.acked({ cumulative: 2, duplicates: 0, ranges: [] });
    await Promise.resolve();
    expect(ended).toBe(true);
  });

  it('continues from its snapshot: same seqs, same frames (not yet sent from here), the same queue', () => {
    const sender = new StreamSender(window);
    void sender.enqueue(bytes(600, 1));
    void sender.enqueue(bytes(250, 2));
    const sealed = sealNext(sender, 600)!;
    sender.transmitted(sealed.packet, 5);
    const restored = new StreamSender(window, sender.snapshot());
    expect(restored.snapshot()).toEqual(sender.snapshot());
    expect(restored.nextSeq).toBe(1);
    expect([...restored.unacknowledged()]).toEqual([{ frame: sealed.packet.frame, transmissions: 0, lastSentAt: 0, lastSendOrder: 0, sacked: false }]);
    expect([...restored.outstanding()]).toEqual([]);
    expect(sealNext(restored, 1000)!).toMatchObject({ seq: 1, body: { kind: 'last-chunk', payload: bytes(250, 2) } });
    restored.terminate(new Error('over')); // the restored sends nobody awaits do not reject unhandled
  });

  it('rejects pending sends and end() when terminated', async () => {
    const sender = new StreamSender({ windowPackets: 1, windowBytes: 1 << 20 });
    const pending = sender.enqueue(bytes(10));
    const ending = sender.end();
    sender.terminate(new Error('stream disposed'));
    await expect(pending).rejects.toThrow('stream disposed');
    await expect(ending).rejects.toThrow('stream disposed');
  });
});
