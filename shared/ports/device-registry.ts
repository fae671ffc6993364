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
}

export interface DeviceRegistry {
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
  /** Deletes the device: from then on it cannot sign in. Returns it, or undefined if there was none. */
  removeDevice(deviceId: string): Promise<DeviceRecord | undefined>;
}
