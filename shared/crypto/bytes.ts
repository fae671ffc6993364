// Byte helpers shared by the crypto modules that the noble libraries do not already provide.

/** Compares without an early exit, so timing does not reveal where two secrets first differ. */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a[i]! ^ b[i]!;
  return difference === 0;
}

/** WebCrypto takes only ArrayBuffer-backed views; copy the rare view over a SharedArrayBuffer. */
export function arrayBufferView(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes.buffer instanceof ArrayBuffer
    ? (bytes as Uint8Array<ArrayBuffer>)
    : new Uint8Array(bytes);
}
