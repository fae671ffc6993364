import type { DeviceRecord, DeviceRegistry, EnrolmentTokenRecord, OfferRecord } from '../ports/device-registry.js';
import type { SignedGroupPolicy } from '../../core/group-policy.js';
import type { DeviceApproval } from '../../core/device-approval.js';

/** The device registry in memory: unit tests of the use cases, and the contract test beside the DynamoDB one. */
export class MemoryDeviceRegistry implements DeviceRegistry {
  readonly #tokens = new Map<string, EnrolmentTokenRecord>();
  readonly #devices = new Map<string, DeviceRecord>();
  readonly #policies = new Map<string, SignedGroupPolicy>();
  readonly #offers = new Map<string, OfferRecord>();
  readonly #challenges = new Map<string, { challenge: string; expiresAt: number }>();

  constructor(
    /** Epoch seconds; an expired token is absent. */
    private readonly nowSeconds: () => number,
  ) {}

  #liveToken(tokenHash: string): EnrolmentTokenRecord | undefined {
    const token = this.#tokens.get(tokenHash);
    return token && token.expiresAt > this.nowSeconds() ? token : undefined;
  }

  async putOffer(offer: OfferRecord): Promise<void> {
    this.#offers.set(offer.sessionId, { ...offer });
  }

  async getOffer(sessionId: string, now: number): Promise<OfferRecord | undefined> {
    const offer = this.#offers.get(sessionId);
    return offer && offer.expiresAt > now ? { ...offer } : undefined;
  }

  async putGroupPolicy(signed: SignedGroupPolicy): Promise<void> {
    this.#policies.set(signed.policy.group, structuredClone(signed));
  }

  async getGroupPolicy(group: string): Promise<SignedGroupPolicy | undefined> {
    const signed = this.#policies.get(group);
    return signed && structuredClone(signed);
  }

  async *listGroupPolicies(): AsyncIterable<SignedGroupPolicy> {
    for (const signed of [...this.#policies.values()]) yield structuredClone(signed);
  }

  async putEnrolmentToken(token: EnrolmentTokenRecord): Promise<void> {
    this.#tokens.set(token.tokenHash, { ...token });
  }

  async spendEnrolmentToken(tokenHash: string, now: number): Promise<EnrolmentTokenRecord | undefined> {
    const token = this.#tokens.get(tokenHash);
    if (!token || token.expiresAt <= now || token.usesLeft <= 0) return undefined;
    this.#tokens.set(tokenHash, { ...token, usesLeft: token.usesLeft - 1 });
    return { ...token };
  }

  async refundEnrolmentToken(tokenHash: string): Promise<void> {
    const token = this.#tokens.get(tokenHash);
    if (token) this.#tokens.set(tokenHash, { ...token, usesLeft: token.usesLeft + 1 });
  }

  async *listEnrolmentTokens(): AsyncIterable<EnrolmentTokenRecord> {
    for (const hash of [...this.#tokens.keys()]) {
      const token = this.#liveToken(hash);
      if (token) yield { ...token };
    }
  }

  async deleteEnrolmentToken(tokenHash: string): Promise<EnrolmentTokenRecord | undefined> {
    const token = this.#liveToken(tokenHash);
    this.#tokens.delete(tokenHash);
    return token && { ...token };
  }

  async addDevice(device: DeviceRecord): Promise<boolean> {
    if (this.#devices.has(device.deviceId)) return false;
    this.#devices.set(device.deviceId, { ...device });
    return true;
  }

  async getDevice(deviceId: string): Promise<DeviceRecord | undefined> {
    const device = this.#devices.get(deviceId);
    return device && { ...device };
  }

  async *listDevices(): AsyncIterable<DeviceRecord> {
    for (const device of [...this.#devices.values()]) yield { ...device };
  }

  async *listDevicesInGroup(group: string): AsyncIterable<DeviceRecord> {
    for await (const device of this.listDevices()) if (device.group === group) yield device;
  }

  async approveDevice(deviceId: string, publicKey: string, approval: DeviceApproval): Promise<boolean> {
    const device = this.#devices.get(deviceId);
    if (!device || device.publicKey !== publicKey) return false;
    this.#devices.set(deviceId, { ...device, approval: { ...approval } });
    return true;
  }

  async removeDevice(deviceId: string): Promise<DeviceRecord | undefined> {
    const device = this.#devices.get(deviceId);
    this.#devices.delete(deviceId);
    return device && { ...device };
  }

  async putChallenge(connectionId: string, challenge: string, expiresAt: number): Promise<void> {
    this.#challenges.set(connectionId, { challenge, expiresAt });
  }

  async takeChallenge(connectionId: string, now: number): Promise<string | undefined> {
    const kept = this.#challenges.get(connectionId);
    this.#challenges.delete(connectionId);
    return kept && kept.expiresAt > now ? kept.challenge : undefined;
  }

  async attachDevice(deviceId: string, connectionId: string, now: number, sourceIp: string): Promise<DeviceRecord | undefined> {
    const device = this.#devices.get(deviceId);
    if (!device) return undefined;
    this.#devices.set(deviceId, { ...device, connectionId, lastSeenAt: now, sourceIp });
    return { ...device };
  }

  async touchDevice(deviceId: string, connectionId: string, now: number): Promise<boolean> {
    const device = this.#devices.get(deviceId);
    if (device?.connectionId !== connectionId) return false;
    this.#devices.set(deviceId, { ...device, lastSeenAt: now });
    return true;
  }
}
