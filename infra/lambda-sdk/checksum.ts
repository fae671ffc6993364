// Bundled in place of @smithy/core/checksum (see infra/constructs/bundling.ts): everything it exports, except
// that SHA-256, which signs every request, is Node's own. The SDK's version also carries a pure-JavaScript
// SHA-256 for runtimes without node:crypto, which Lambda's Node never is (about 4 KB).

import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';

export * from 'sdk-original:@smithy/core/checksum';

type SourceData = string | ArrayBuffer | ArrayBufferView;

const bytesOf = (data: SourceData): string | Buffer =>
  typeof data === 'string' ? data : ArrayBuffer.isView(data) ? Buffer.from(data.buffer, data.byteOffset, data.byteLength) : Buffer.from(data);

/** SHA-256, or HMAC-SHA-256 when given a secret, with the SDK's Checksum interface. */
export class Sha256 {
  readonly digestLength = 32;
  private hash: Hash | Hmac;

  constructor(private readonly secret?: SourceData) {
    this.hash = this.start();
  }

  update(data: SourceData): void {
    this.hash.update(bytesOf(data));
  }

  /** A plain hash may be digested and then updated further (the SDK does); an HMAC is finished by it. */
  async digest(): Promise<Uint8Array> {
    const digest = this.secret === undefined ? (this.hash as Hash).copy().digest() : this.hash.digest();
    return new Uint8Array(digest.buffer, digest.byteOffset, digest.byteLength);
  }

  reset(): void {
    this.hash = this.start();
  }

  private start(): Hash | Hmac {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', bytesOf(this.secret));
  }
}
