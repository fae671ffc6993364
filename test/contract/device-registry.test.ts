// The device registry's contract, held by both adapters: the in-memory one the unit tests use and the
// DynamoDB one (against dynalite), so the unit tests' answers are the table's answers.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeviceRecord, DeviceRegistry, EnrolmentTokenRecord } from '../../shared/server/ports/device-registry.js';
import type { SignedGroupPolicy } from '../../shared/core/group-policy.js';
import { adapterKinds, type TableAdapters } from './adapters.js';

let NOW = 0;
let made = 0;
const token = (overrides: Partial<EnrolmentTokenRecord> = {}): EnrolmentTokenRecord => {
  const hash = `hash-${++made}-${Math.random().toString(36).slice(2)}`;
  return { tokenHash: hash, tokenId: hash.slice(0, 8), group: 'G', createdAt: NOW - 10, expiresAt: NOW + 60, usesLeft: 1, operatorKey: 'o', ...overrides };
};
const device = (overrides: Partial<DeviceRecord> = {}): DeviceRecord => ({
  deviceId: `dev-${Math.random().toString(36).slice(2)}`,
  name: 'PC',
  os: 'linux',
  group: 'G',
  publicKey: 'k',
  enrolledAt: NOW,
  enrolledWith: 't',
  ...overrides,
});

async function all<T>(items: AsyncIterable<T>): Promise<T[]> {
  const list: T[] = [];
  for await (const item of items) list.push(item);
  return list;
}

describe.each(adapterKinds)('DeviceRegistry contract: $name', ({ start }) => {
  let adapters: TableAdapters;
  beforeAll(async () => {
    adapters = await start();
    NOW = adapters.clock.now;
  });
  afterAll(() => adapters.close());
  // Each test gets fresh items: keys are unique per test through their hashes, ids and groups.
  const make = (): DeviceRegistry => adapters.devices;
  const uniqueGroup = (name = 'Finance laptops') => `${name} ${randomUUID().slice(0, 8)}`;
  it('spends a token’s uses one at a time, gives one back, and never below zero', async () => {
    const registry = make();
    const record = token({ usesLeft: 2 });
    await registry.putEnrolmentToken(record);
    expect(await registry.spendEnrolmentToken(record.tokenHash, NOW)).toEqual(record);
    expect((await registry.spendEnrolmentToken(record.tokenHash, NOW))?.usesLeft).toBe(1);
    expect(await registry.spendEnrolmentToken(record.tokenHash, NOW)).toBeUndefined();
    await registry.refundEnrolmentToken(record.tokenHash);
    expect((await registry.spendEnrolmentToken(record.tokenHash, NOW))?.usesLeft).toBe(1);
  });

  it('treats an expired token as absent: not spent, not listed, not deleted', async () => {
    const registry = make();
    const expired = token({ expiresAt: NOW });
    await registry.putEnrolmentToken(expired);
    expect(await registry.spendEnrolmentToken(expired.tokenHash, NOW)).toBeUndefined();
    expect((await all(registry.listEnrolmentTokens())).map((listed) => listed.tokenHash)).not.toContain(expired.tokenHash);
    expect(await registry.deleteEnrolmentToken(expired.tokenHash)).toBeUndefined();
  });

  it('deletes a token (then it cannot be spent) and does not bring it back with a refund', async () => {
    const registry = make();
    const record = token();
    await registry.putEnrolmentToken(record);
    expect(await registry.deleteEnrolmentToken(record.tokenHash)).toEqual(record);
    await registry.refundEnrolmentToken(record.tokenHash);
    expect(await registry.spendEnrolmentToken(record.tokenHash, NOW)).toBeUndefined();
  });

  it('adds a device once per id, lists it and removes it', async () => {
    const registry = make();
    const record = device();
    expect(await registry.addDevice(record)).toBe(true);
    expect(await registry.addDevice({ ...record, name: 'other' })).toBe(false);
    expect(await registry.getDevice(record.deviceId)).toEqual(record);
    expect(await all(registry.listDevices())).toContainEqual(record);
    expect(await registry.removeDevice(record.deviceId)).toEqual(record);
    expect(await registry.getDevice(record.deviceId)).toBeUndefined();
    expect(await registry.removeDevice(record.deviceId)).toBeUndefined();
  });

  it('keeps the operator’s approval on a device only while its key is the one approved, and lists it with it', async () => {
    const registry = make();
    const added = device({ group: `A-${randomUUID()}`, publicKey: 'key-1' });
    await registry.addDevice(added);
    const approval = { operatorKey: 'op', signature: 'sig', approvedAt: NOW };
    expect(await registry.approveDevice(added.deviceId, 'key-2', approval)).toBe(false);
    expect((await registry.getDevice(added.deviceId))?.approval).toBeUndefined();
    expect(await registry.approveDevice(added.deviceId, 'key-1', approval)).toBe(true);
    expect(await registry.getDevice(added.deviceId)).toEqual({ ...added, approval });
    // Still approved after it signs in; listed with it.
    await registry.attachDevice(added.deviceId, 'conn-a', NOW, '198.51.100.7');
    expect(await all(registry.listDevicesInGroup(added.group))).toEqual([expect.objectContaining({ deviceId: added.deviceId, approval })]);
    await registry.removeDevice(added.deviceId);
    expect(await registry.approveDevice(added.deviceId, 'key-1', approval)).toBe(false);
    expect(await registry.getDevice(added.deviceId)).toBeUndefined();
  });

  it('keeps a challenge for one take, and only until it expires', async () => {
    const registry = make();
    const connection = `conn-${Math.random().toString(36).slice(2)}`;
    await registry.putChallenge(connection, 'c1', NOW + 60);
    expect(await registry.takeChallenge(connection, NOW)).toBe('c1');
    expect(await registry.takeChallenge(connection, NOW)).toBeUndefined();
    await registry.putChallenge(connection, 'c2', NOW);
    expect(await registry.takeChallenge(connection, NOW)).toBeUndefined();
  });

  it('attaches a device to its newest connection; heartbeats hold only on that one, and never for a removed device', async () => {
    const registry = make();
    const record = device();
    expect(await registry.attachDevice(record.deviceId, 'c1', NOW, '192.0.2.1')).toBeUndefined();
    await registry.addDevice(record);
    expect(await registry.attachDevice(record.deviceId, 'c1', NOW, '192.0.2.1')).toEqual(record);
    expect((await registry.attachDevice(record.deviceId, 'c2', NOW + 1, '192.0.2.2'))?.connectionId).toBe('c1');
    expect(await registry.touchDevice(record.deviceId, 'c1', NOW + 2)).toBe(false);
    expect(await registry.touchDevice(record.deviceId, 'c2', NOW + 3)).toBe(true);
    expect(await registry.getDevice(record.deviceId)).toMatchObject({ connectionId: 'c2', lastSeenAt: NOW + 3, sourceIp: '192.0.2.2' });
    await registry.removeDevice(record.deviceId);
    expect(await registry.touchDevice(record.deviceId, 'c2', NOW + 4)).toBe(false);
    expect(await registry.getDevice(record.deviceId)).toBeUndefined();
  });

  it('keeps one signed policy per group, the newest put replacing the one before', async () => {
    const registry = make();
    const group = `G-${Math.random().toString(36).slice(2)}`;
    const signed = (issuedAt: number): SignedGroupPolicy => ({
      policy: { group, issuedAt, rules: [{ technicianGroup: 'Helpdesk', level: 'control', consent: 'ask' }], technicianIssuer: { issuer: 'https://login.example.org', clientId: 'assist-relay', groupClaim: 'groups' } },
      signature: `sig-${issuedAt}`,
    });
    expect(await registry.getGroupPolicy(group)).toBeUndefined();
    await registry.putGroupPolicy(signed(1));
    await registry.putGroupPolicy(signed(2));
    expect(await registry.getGroupPolicy(group)).toEqual(signed(2));
    expect((await all(registry.listGroupPolicies())).filter((listed) => listed.policy.group === group)).toEqual([signed(2)]);
  });

  it('lists a group’s devices, every one across many pages, and only that group’s (not a group whose name starts alike)', async () => {
    const registry = make();
    const group = uniqueGroup();
    const inGroup = Array.from({ length: 130 }, (_, index) => device({ group, name: `PC ${index}` }));
    // `<group>#…`: a device id holds no `#`, but a group's name may, so a prefix alone cannot tell the groups apart.
    const alike = [device({ group: `${group}#2` }), device({ group: `${group}#` }), device({ group: `${group} annex` })];
    for (const record of [...inGroup, ...alike]) expect(await registry.addDevice(record)).toBe(true);
    const listed = await all(registry.listDevicesInGroup(group));
    expect(listed.map((record) => record.deviceId).sort()).toEqual(inGroup.map((record) => record.deviceId).sort());
    expect(listed).toContainEqual(inGroup[129]);
    for (const other of alike) expect(await all(registry.listDevicesInGroup(other.group))).toEqual([other]);
    const everyDevice = (await all(registry.listDevices())).map((record) => record.deviceId);
    for (const record of [...inGroup, ...alike]) expect(everyDevice).toContain(record.deviceId);
    expect(await all(registry.listDevicesInGroup(uniqueGroup('Nobody')))).toEqual([]);
  });

  it('lists a device as it is now (signed in, last seen), and no longer once removed', async () => {
    const registry = make();
    const group = uniqueGroup();
    const [kept, removed] = [device({ group }), device({ group })];
    await registry.addDevice(kept);
    await registry.addDevice(removed);
    await registry.attachDevice(kept.deviceId, 'c1', NOW + 5, '192.0.2.7');
    await registry.touchDevice(kept.deviceId, 'c1', NOW + 9);
    await registry.removeDevice(removed.deviceId);
    const current = { ...kept, connectionId: 'c1', lastSeenAt: NOW + 9, sourceIp: '192.0.2.7' };
    expect(await all(registry.listDevicesInGroup(group))).toEqual([current]);
    expect(await all(registry.listDevices())).toContainEqual(current);
    expect((await all(registry.listDevices())).map((record) => record.deviceId)).not.toContain(removed.deviceId);
  });

  it('lists the unexpired tokens and the policies, each kind apart from the devices', async () => {
    const registry = make();
    const group = uniqueGroup();
    const [live, spent] = [token({ group }), token({ group, usesLeft: 1 })];
    await registry.putEnrolmentToken(live);
    await registry.putEnrolmentToken(spent);
    await registry.spendEnrolmentToken(spent.tokenHash, NOW);
    const signed: SignedGroupPolicy = { policy: { group, issuedAt: NOW, rules: [], technicianIssuer: { issuer: 'https://login.example.org', clientId: 'assist-relay', groupClaim: 'groups' } }, signature: 's' };
    await registry.putGroupPolicy(signed);
    await registry.addDevice(device({ group }));
    const tokens = (await all(registry.listEnrolmentTokens())).filter((listed) => listed.group === group);
    expect(tokens.sort((a, b) => a.tokenHash.localeCompare(b.tokenHash))).toEqual([live, { ...spent, usesLeft: 0 }].sort((a, b) => a.tokenHash.localeCompare(b.tokenHash)));
    expect((await all(registry.listGroupPolicies())).filter((listed) => listed.policy.group === group)).toEqual([signed]);
    expect(await all(registry.listDevicesInGroup(group))).toHaveLength(1);
    await registry.deleteEnrolmentToken(live.tokenHash);
    expect((await all(registry.listEnrolmentTokens())).map((listed) => listed.tokenHash)).not.toContain(live.tokenHash);
  });

  it('keeps an offer until its session’s invitation closes', async () => {
    const registry = make();
    const sessionId = `s-${Math.random().toString(36).slice(2)}`;
    await registry.putOffer({ sessionId, deviceId: 'd1', expiresAt: NOW + 60 });
    expect(await registry.getOffer(sessionId, NOW)).toEqual({ sessionId, deviceId: 'd1', expiresAt: NOW + 60 });
    expect(await registry.getOffer(sessionId, NOW + 60)).toBeUndefined();
    expect(await registry.getOffer('no-such-session', NOW)).toBeUndefined();
  });
});
