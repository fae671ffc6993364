import { sha256 } from '@noble/hashes/sha2.js';
import { encodeBase64 } from '../core/base64.js';
import { escapeHtml } from './html.js';
import type { RelayUrls } from '../core/invitation-file.js';
import type { TechnicianSignInInfo } from '../core/technician.js';

// What the relay answers on `/join/<nameplate>` (someone opened an invitation link in a browser)
// when it serves no web console, and on `/relay.json`. The page only explains how to join: it runs
// no script, loads nothing and cannot see the secret in the link's fragment, which browsers never send.

export interface HttpResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  /** The body is base64 (bytes, e.g. gzip): API Gateway decodes it before sending. */
  isBase64Encoded?: boolean;
}

/**
 * What `/join/<nameplate>` may answer. The relay looks nothing up for it: the same page for every
 * nameplate, open, used or never issued, so the page cannot be used to list invitations; whether the
 * link works is learned only by joining (with the secret). Views are still counted with joins.
 */
export type JoinPageView =
  | { state: 'link' }
  /** Too many views (and joins) from this address, whatever the nameplate. */
  | { state: 'rate-limited'; message: string };

const style = `
body { font-family: system-ui, sans-serif; line-height: 1.5; margin: 0; color: #1b1b1b; background: #fafafa; }
main { max-width: 40rem; margin: 2rem auto; padding: 0 1rem; }
h1 { font-size: 1.6rem; }
h2 { font-size: 1.2rem; margin-top: 2rem; }
pre { background: #fff; border: 1px solid #8a8a8a; border-radius: 4px; padding: 0.75rem; overflow-x: auto; white-space: pre-wrap; word-break: break-all; }
code { font-size: 1rem; }
`;

/** The one inline style block is allowed by its hash, so the policy needs no 'unsafe-inline'. */
const styleHash = `sha256-${encodeBase64(sha256(new TextEncoder().encode(style)))}`;

const pageHeaders: Record<string, string> = {
  'content-type': 'text/html; charset=utf-8',
  // default-src does not cover where forms post, what may frame the page or <base>: close those too.
  'content-security-policy': `default-src 'none'; style-src '${styleHash}'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  'x-frame-options': 'DENY',
};

function page(title: string, content: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(title)} – Assist Relay</title>
<style>${style}</style>
</head>
<body>
<main>
<h1>${escapeHtml(title)}</h1>
${content}
</main>
</body>
</html>
`;
}

const linkPage = page(
  'You opened an invitation link',
  `<p>Someone sent you this link to ask for your help with their computer through Assist Relay.
Only continue if you know who sent it and expected it.</p>
<h2>Join</h2>
<p id="join-command">This relay does not serve its web console, so join from a terminal with the <code>assist</code> command
that comes with the relay (its source's <code>cli/README.md</code> says how to set it up), keeping the quotes:</p>
<pre aria-labelledby="join-command"><code>assist join '&lt;the full link, including the part after #&gt;'</code></pre>
<p>You will then be asked for the password. The person who asked for help tells it to you separately, for example on the
phone: 8 characters like <code>XXXX-XXXX</code>. It is neither in the link nor in the email.</p>
<p>Invitations work for a limited time and only once. If this one has expired, been used or withdrawn, ask for a new one.</p>
<h2>Your privacy</h2>
<p>The part of the link after <code>#</code> stays on your computer: browsers and the command never send it to a server, so this
relay has not seen it and cannot join in your place.</p>`,
);

export function renderJoinPage(view: JoinPageView): HttpResponse {
  if (view.state === 'rate-limited') {
    const body = page('Too many invitation links opened', `<p>${escapeHtml(`This network address opened or joined too many invitations: ${view.message}.`)}</p>`);
    return { statusCode: 429, headers: { ...pageHeaders }, body };
  }
  return { statusCode: 200, headers: { ...pageHeaders }, body: linkPage };
}

/** `/relay.json`: public, so any web page may read it. */
export function renderRelayInfo(relay: RelayUrls, technicianSignIn?: TechnicianSignInInfo): HttpResponse {
  return {
    statusCode: 200,
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'access-control-allow-origin': '*',
      'x-content-type-options': 'nosniff',
      'cache-control': 'public, max-age=300',
    },
    // technicianSignIn: where technicians sign in (issuer, client id, assist login's exact redirect), when the relay has an issuer.
    body: JSON.stringify({ version: 1, webSocketUrl: relay.webSocketUrl, httpUrl: relay.httpUrl, ...(technicianSignIn && { technicianSignIn }) }),
  };
}
