import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { HttpResponse } from '../../shared/server/join-page.js';
import { CodedError } from '../../shared/core/coded-error.js';

// The relay's side of the web console: the built files (web/dist, `npm run build:web`) read once,
// checked, and served with a policy that lets the page run only its own bundle and talk only to
// this relay. Nothing here sees a secret: the console reads it from the URL's fragment, which
// browsers never send.

export type ConsoleSiteErrorCode =
  /** No index.html: the console was not built. */
  | 'not-built'
  /** index.html names a file the build did not produce, or one without an integrity attribute. */
  | 'missing-asset'
  /** A file's bytes do not match the integrity index.html gives it. */
  | 'integrity-mismatch'
  /** A file the relay would not know how to serve (only scripts and stylesheets are expected). */
  | 'unexpected-file';

export class ConsoleSiteError extends CodedError<ConsoleSiteErrorCode> {
  override readonly name = 'ConsoleSiteError';
}

export interface ConsoleSite {
  /** The page for `/`, `/help` and `/join/<nameplate>`: one page, which reads where it is from its URL. */
  /** `signInOrigin`: the technicians' issuer, which the page may fetch from (only /technician's). */
  page(webSocketUrl: string, signInOrigin?: string): HttpResponse;
  /** A file of the bundle at `/assets/<name>`, gzipped when the request's Accept-Encoding allows it; or undefined. */
  asset(path: string, acceptEncoding?: string): HttpResponse | undefined;
}

export const ASSETS_PATH = '/assets/';

const contentTypes: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

/** `<script … src="/assets/x" … integrity="…">` and `<link … href=…>`: the URL and the integrity, in either order. */
const BUNDLE_TAG = /<(?:script|link)\b[^>]*>/g;
const attribute = (tag: string, name: string) => new RegExp(`\\s${name}="([^"]*)"`).exec(tag)?.[1];

function integrityMatches(integrity: string, content: Buffer): boolean {
  const [algorithm, expected] = integrity.split(/-(.*)/s);
  if (algorithm !== 'sha256' && algorithm !== 'sha384' && algorithm !== 'sha512') return false;
  return createHash(algorithm).update(content).digest('base64') === expected;
}

/**
 * The policy of every console page. Scripts and stylesheets come from this origin only (and the
 * page pins their hashes); the page may connect to this origin (`/relay.json`) and the relay's
 * WebSocket endpoint, nothing else. Style attributes are allowed because the terminal (xterm.js)
 * colours 24-bit text with them; style elements are not.
 */
export function consolePolicy(webSocketUrl: string, signInOrigin?: string): string {
  const relay = new URL(webSocketUrl).origin;
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "style-src-attr 'unsafe-inline'",
    // The issuer technicians sign in with: its discovery document and token endpoint (docs/technicians.md).
    `connect-src 'self' ${relay}${signInOrigin ? ` ${signInOrigin}` : ''}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "require-trusted-types-for 'script'",
    "trusted-types 'none'",
  ].join('; ');
}

const pageHeaders = (webSocketUrl: string, signInOrigin?: string): Record<string, string> => ({
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': consolePolicy(webSocketUrl, signInOrigin),
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  // Screen capture for this page only: the person may share their screen (view only); nothing else may capture.
  'permissions-policy': 'camera=(), microphone=(), geolocation=(), display-capture=(self)',
});

const assetHeaders = (contentType: string): Record<string, string> => ({
  'content-type': contentType,
  'x-content-type-options': 'nosniff',
  // The names carry the content's hash: a changed file is a new name.
  'cache-control': 'public, max-age=31536000, immutable',
  'cross-origin-resource-policy': 'same-origin',
});

/** Whether an Accept-Encoding header allows gzip (listed, or `*`, and not with q=0). */
export function acceptsGzip(header: string | undefined): boolean {
  for (const part of (header ?? '').toLowerCase().split(',')) {
    const [coding, ...parameters] = part.split(';').map((piece) => piece.trim());
    if (coding !== 'gzip' && coding !== '*') continue;
    const quality = parameters.find((parameter) => parameter.startsWith('q='));
    return quality === undefined || Number(quality.slice(2)) > 0;
  }
  return false;
}

/** The console in `dir`, or undefined when it was not built there (the relay then serves its plain pages). */
export function consoleSiteIfBuilt(dir: string): ConsoleSite | undefined {
  return existsSync(join(dir, 'index.html')) ? loadConsoleSite(dir) : undefined;
}

/**
 * Reads and checks the built console in `dir` (once, at start: it is a few hundred KB); refuses,
 * with a ConsoleSiteError, anything it could not serve exactly as built.
 */
export function loadConsoleSite(dir: string): ConsoleSite {
  let index: string;
  try {
    index = readFileSync(join(dir, 'index.html'), 'utf8');
  } catch {
    throw new ConsoleSiteError('not-built', `the web console is not built: ${join(dir, 'index.html')} is missing (npm run build:web)`);
  }
  const assetNames = existsSync(join(dir, 'assets')) ? readdirSync(join(dir, 'assets')) : [];
  const assets = new Map<string, HttpResponse>();
  const gzipped = new Map<string, string>();
  const bytes = new Map<string, Buffer>();
  for (const name of assetNames) {
    const contentType = contentTypes[/\.[a-z0-9]+$/.exec(name)?.[0] ?? ''];
    if (!contentType) throw new ConsoleSiteError('unexpected-file', `the console's assets/${name} is neither a script nor a stylesheet`);
    const content = readFileSync(join(dir, 'assets', name));
    bytes.set(`${ASSETS_PATH}${name}`, content);
    assets.set(`${ASSETS_PATH}${name}`, { statusCode: 200, headers: assetHeaders(contentType), body: content.toString('utf8') });
    // Compressed once, at start: API Gateway's HTTP API does not compress what Lambda answers.
    gzipped.set(`${ASSETS_PATH}${name}`, gzipSync(content, { level: 9 }).toString('base64'));
  }
  const references = [...index.matchAll(BUNDLE_TAG)].flatMap(([tag]) => {
    const url = attribute(tag, 'src') ?? attribute(tag, 'href');
    return url === undefined ? [] : [{ url, integrity: attribute(tag, 'integrity') }];
  });
  if (references.length === 0) throw new ConsoleSiteError('missing-asset', 'the console’s index.html loads no script');
  for (const { url, integrity } of references) {
    const content = bytes.get(url);
    if (!content) throw new ConsoleSiteError('missing-asset', `the console’s index.html refers to ${url}, which the build did not produce`);
    if (!integrity) throw new ConsoleSiteError('missing-asset', `the console’s index.html loads ${url} without an integrity attribute`);
    if (!integrityMatches(integrity, content)) {
      throw new ConsoleSiteError('integrity-mismatch', `${url} does not match the integrity index.html gives it; rebuild the console`);
    }
  }

  return {
    page(webSocketUrl, signInOrigin) {
      return { statusCode: 200, headers: pageHeaders(webSocketUrl, signInOrigin), body: index };
    },
    asset(path, acceptEncoding) {
      const response = assets.get(path);
      if (!response) return undefined;
      const headers = { ...response.headers, vary: 'accept-encoding' };
      if (!acceptsGzip(acceptEncoding)) return { ...response, headers };
      return { statusCode: 200, headers: { ...headers, 'content-encoding': 'gzip' }, body: gzipped.get(path)!, isBase64Encoded: true };
    },
  };
}
