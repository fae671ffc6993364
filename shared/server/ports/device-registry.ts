import type { DeviceApproval } from '../../core/device-approval.js';
import type { SignedGroupPolicy } from '../../core/group-policy.js';

/**
 * Enrolment tokens and enrolled devices (docs/help-desk.md). A token is kept only as its hash; a device
 * only as the public half of its key pair. Every read treats an expired token as absent. Races (two
 * devices spending a token's last use) are settled by conditional writes.
 */

export interface EnrolmentTokenRecord {
  /** SHA-256 of the token, base64url: the key. The token itself is never stored. */
  tokenHash: string;
  /** What the operator calls it in lists and to revoke it: the first characters of the hash. */
  tokenId: string;
  /** The device group the devices that spend it join. */
  group: string;
  /** Epoch seconds. */
  createdAt: number;
  expiresAt: number;
  /** Enrolments left; the token is spent at 0. */
  usesLeft: number;
  /** The operator's Ed25519 public key (base64url) the devices it enrols pin; the token ends with its fingerprint. */
  operatorKey: string;
}

export interface DeviceRecord {
  deviceId: string;
  name: string;
  os: string;
  group: string;
  /** Ed25519, raw 32 bytes, base64url. */
  publicKey: string;
  /** Epoch seconds. */
  enrolledAt: number;
  /** Which enrolment token it spent (its id), for the operator. */
  enrolledWith: string;
  /** The connection it last signed in on (one per device). */
  connectionId?: string;
  /** When it last signed in or sent a heartbeat, epoch seconds, and from where. */
  lastSeenAt?: number;
  sourceIp?: string;
  /** The operator's signature over its id, name, group and key; none: awaiting approval, technicians cannot offer help. */
  approval?: DeviceApproval;
}

/** An open help-desk offer: which device the technician's session was offered to, until its invitation closes. */
export interface OfferRecord {
  sessionId: string;
  deviceId: string;
  /** Epoch seconds. */
  expiresAt: number;
}

export interface DeviceRegistry {
  putOffer(offer: OfferRecord): Promise<void>;
  /** The offer for this session, unless it expired at `now`. */
  getOffer(sessionId: string, now: number): Promise<OfferRecord | undefined>;

  /** Stores the operator's signed policy for its group, replacing the one before. */
  putGroupPolicy(signed: SignedGroupPolicy): Promise<void>;
  getGroupPolicy(group: string): Promise<SignedGroupPolicy | undefined>;
  listGroupPolicies(): AsyncIterable<SignedGroupPolicy>;

  putEnrolmentToken(token: EnrolmentTokenRecord): Promise<void>;
  /**
   * Takes one use of the token with this hash, if it exists, has not expired at `now` and has uses left;
   * returns it as it was before, or undefined (nothing changed).
   */
  spendEnrolmentToken(tokenHash: string, now: number): Promise<EnrolmentTokenRecord | undefined>;
  /** Gives back a use spendEnrolmentToken took, when the enrolment could not finish. */
  refundEnrolmentToken(tokenHash: string): Promise<void>;
  /** Unexpired tokens, for the operator. */
  listEnrolmentTokens(): AsyncIterable<EnrolmentTokenRecord>;
  /** Deletes the token; returns it, or undefined if there was none with this hash. */
  deleteEnrolmentToken(tokenHash: string): Promise<EnrolmentTokenRecord | undefined>;

  /** Adds a device; false if one with its id exists already. */
  addDevice(device: DeviceRecord): Promise<boolean>;
  getDevice(deviceId: string): Promise<DeviceRecord | undefined>;
  listDevices(): AsyncIterable<DeviceRecord>;
  /** The devices of one group (exactly that name). */
  listDevicesInGroup(group: string): AsyncIterable<DeviceRecord>;
  /** Keeps the operator's approval on the device, only while its key is still `publicKey`; false if not (removed, or another key). */
  approveDevice(deviceId: string, publicKey: string, approval: DeviceApproval): Promise<boolean>;
  /** Deletes the device: from then on it cannot sign in. Returns it, or undefined if there was none. */
  removeDevice(deviceId: string): Promise<DeviceRecord | undefined>;

  /** Keeps a sign-in challenge for a connection until `expiresAt` (epoch seconds), replacing any earlier one. */
  putChallenge(connectionId: string, challenge: string, expiresAt: number): Promise<void>;
  /** Takes the connection's challenge (it can be used once); undefined if there is none or it expired at `now`. */
  takeChallenge(connectionId: string, now: number): Promise<string | undefined>;
  /**
   * Records that the device signed in on `connectionId`; returns the device as it was before (its earlier
   * connection, if any), or undefined if it is not enrolled (removed meanwhile).
   */
  attachDevice(deviceId: string, connectionId: string, now: number, sourceIp: string): Promise<DeviceRecord | undefined>;
  /** A heartbeat: the device is still there on `connectionId`; false if it is removed or signed in on another connection. */
  touchDevice(deviceId: string, connectionId: string, now: number): Promise<boolean>;
}
