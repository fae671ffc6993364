// What an enrolled device signs to sign in (docs/help-desk.md): the relay's one-time challenge for this
// connection, bound to the device id and to this purpose, so a signature is good for nothing else.

export const DEVICE_SIGN_IN_CONTEXT = 'assist-relay device sign-in v1';

/** How long a challenge may wait for its signature. */
export const DEVICE_CHALLENGE_TTL_SECONDS = 60;

export function deviceSignInMessage(deviceId: string, challenge: string): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(`${DEVICE_SIGN_IN_CONTEXT}\n${deviceId}\n${challenge}`);
}
