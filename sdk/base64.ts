// Base64 for frame payloads, built on atob/btoa so Node ≥ 20 and browsers share one code path (no Buffer).

/** btoa takes a "binary string"; building it in slices keeps String.fromCharCode's argument count bounded. */
const SLICE = 0x8000;

export function encodeBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let offset = 0; offset < bytes.length; offset += SLICE) {
    binary += String.fromCharCode(...bytes.subarray(offset, offset + SLICE));
  }
  return btoa(binary);
}

const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Decodes canonical padded base64; anything else (whitespace, url-safe alphabet, bad padding) throws. */
export function decodeBase64(text: string): Uint8Array {
  if (!STRICT_BASE64.test(text)) throw new Error('invalid base64');
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let index = 0; index < binary.length; index++) bytes[index] = binary.charCodeAt(index);
  return bytes;
}
