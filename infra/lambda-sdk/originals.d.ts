// The real SDK modules that infra/lambda-sdk/ stands in for, under the names the stand-ins import them by.
// Bundling maps each `sdk-original:` name back to the package (infra/constructs/bundling.ts); the bare name
// would be mapped to the stand-in itself.

declare module 'sdk-original:@smithy/core/checksum' {
  export * from '@smithy/core/checksum';
}
declare module 'sdk-original:@smithy/core/config' {
  export * from '@smithy/core/config';
}
