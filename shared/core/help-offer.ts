// What a technician's key signs when it offers help to a device (docs/protocol.md, "Help-desk offers"): the
// device, the technician's session, the code sealed to the device's key, the reason shown to the person, and
// when it was offered. The device rebuilds these bytes from the offer it received, so a relay that changes any
// of them, or moves the proof onto another offer, breaks the technician's signature.

/** What an offer binds; offeredAt is epoch seconds on the technician's clock. */
export interface HelpOfferBinding {
  deviceId: string;
  sessionId: string;
  sealedCode: string;
  reason: string;
  offeredAt: number;
}

/** How long after it was made (either way, for clocks that differ) a device takes an offer: older ones are replays. */
export const OFFER_FRESH_SECONDS = 5 * 60;

/** One fixed layout (a JSON array after a context line), so no field can run into the next. */
export function helpOfferBytes({ deviceId, sessionId, sealedCode, reason, offeredAt }: HelpOfferBinding): Uint8Array {
  return new TextEncoder().encode(`assist-relay help offer v1\n${JSON.stringify([deviceId, sessionId, sealedCode, reason, offeredAt])}`);
}
