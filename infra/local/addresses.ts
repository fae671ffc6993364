import { relayUrlProblem } from '../../shared/core/relay-url.js';
import type { RelayEndpoints } from '../../shared/server/use-cases/deps.js';
import { CodedError } from '../../shared/core/coded-error.js';

// Which addresses the local relay puts into relay.json, links, files and emails, and which browser
// origins count as its own pages. Bound to loopback, it is this machine's relay: its pages work at
// localhost, 127.0.0.1 and [::1] alike. Bound to every interface, only the operator knows the name
// others reach it by, so it must be told (--public-url) rather than write 0.0.0.0 into links.

/** A `--host`, `--public-url` combination that would hand out addresses nobody can use. */
export class LocalAddressError extends CodedError<'invalid-address'> {
  override readonly name = 'LocalAddressError';

  constructor(message: string, options?: ErrorOptions) {
    super('invalid-address', message, options);
  }
}

const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '[::]']);
const LOOPBACK_HOSTS = ['127.0.0.1', '::1', 'localhost'];

export const isWildcardHost = (host: string) => WILDCARD_HOSTS.has(host);
export const isLoopbackHost = (host: string) => LOOPBACK_HOSTS.includes(host.replace(/^\[(.*)\]$/, '$1'));

/** A host as it goes into a URL: IPv6 addresses in brackets. */
export const urlHost = (host: string) => (host.includes(':') && !host.startsWith('[') ? `[${host}]` : host);

/** `https://relay.example.org` (an origin, no path: the local gateway serves from `/`), checked; the reason when not. */
export function normalizePublicUrl(value: string, source: string): string {
  const problem = relayUrlProblem(value.trim(), 'http');
  if (problem !== undefined) throw new LocalAddressError(`${source} ${problem}`);
  const url = new URL(value.trim());
  if (url.pathname.replace(/\/+$/, '') !== '') {
    throw new LocalAddressError(`${source} must be an address alone, like https://relay.example.org, without a path (the relay serves from /)`);
  }
  return url.origin;
}

/** Refuses a wildcard bind without a public URL, saying why and what to pass. */
export function checkBinding(host: string, publicUrl: string | undefined): void {
  if (publicUrl === undefined && isWildcardHost(host)) {
    throw new LocalAddressError(
      `--host ${host} listens on every network of this machine, but links, invitation files and emails need an address ` +
        'the other side can reach, and 0.0.0.0 is none: also pass --public-url with the address people use ' +
        '(for example --public-url http://my-laptop.example.org:8787, or https://… behind a proxy), or set ASSIST_PUBLIC_URL',
    );
  }
}

/** The other loopback address to listen on as well, so the console opens at localhost, 127.0.0.1 and [::1]. */
export function loopbackAlias(host: string, publicUrl: string | undefined): string | undefined {
  if (publicUrl !== undefined) return undefined;
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  if (bare === '127.0.0.1') return '::1';
  if (bare === '::1') return '127.0.0.1';
  return undefined;
}

/**
 * The relay's URLs once its port is known: the public URL's (wss://…/<stage> beside https://), or the bound
 * address's. Its own pages are also at every loopback name it listens on (`servedHosts`).
 */
export function localEndpoints(options: {
  host: string;
  port: number;
  /** The WebSocket API's stage: its path, as on AWS (`/<stage>`). */
  stage: string;
  publicUrl: string | undefined;
  servedHosts: readonly string[];
}): RelayEndpoints {
  if (options.publicUrl !== undefined) {
    const url = new URL(options.publicUrl);
    return { httpUrl: url.origin, webSocketUrl: `${url.protocol === 'https:' ? 'wss:' : 'ws:'}//${url.host}/${options.stage}` };
  }
  const address = `${urlHost(options.host)}:${options.port}`;
  const loopback = options.servedHosts.filter(isLoopbackHost);
  // `localhost` reaches whichever loopback address the browser tries first; served on either, it works.
  const names = loopback.length > 0 ? [...loopback, 'localhost'] : [];
  return {
    httpUrl: `http://${address}`,
    webSocketUrl: `ws://${address}/${options.stage}`,
    pageOrigins: [...new Set(names.map((name) => `http://${urlHost(name)}:${options.port}`))],
  };
}
