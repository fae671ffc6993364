// Base64 for frame payloads and snapshots: the one implementation is the core's (shared/core/base64.ts).
export { decodeBase64, encodeBase64 } from '../shared/core/base64.js';
