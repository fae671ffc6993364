import { sha256 } from '@noble/hashes/sha2.js';
import type { InvitationKind } from '../protocol/messages.js';
import { escapeHtml } from './html.js';
import { formatUtcTime, type RelayUrls } from './invitation-file.js';

// What the relay answers on `/join/<nameplate>` (someone opened an invitation link in a browser)
// and on `/relay.json`. The page only explains how to join: it runs no script, loads nothing and
// cannot see the secret in the link's fragment, which browsers never send.

export interface HttpResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

export type JoinPageView =
  | { state: 'open'; nameplate: string; kind: InvitationKind; expiresAt: Date; httpUrl: string }
  /** Expired, used, revoked or never existed: one answer, so nameplates cannot be probed for their state. */
  | { state: 'unknown' }
  /** Too many lookups from this address, whatever the nameplate. */
  | { state: 'rate-limited'; message: string };

const style = `
body { font-family: system-ui, sans-serif; line-height: 1.5; margin: 0; color: #1b1b1b; background: #fafafa; }
main { max-width: 40rem; margin: 2rem auto; padding: 0 1rem; }
h1 { font-size: 1.6rem; }
h2 { font-size: 1.2rem; margin-top: 2rem; }
pre { background: #fff; border: 1px solid #8a8a8a; border-radius: 4px; padding: 0.75rem; overflow-x: auto; white-space: pre-wrap; word-break: break-all; }
code { font-size: 1rem; }
`;

function base64(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** The one inline style block is allowed by its hash, so the policy needs no 'unsafe-inline'. */
const styleHash = `sha256-${base64(sha256(new TextEncoder().encode(style)))}`;

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

/** What differs between kinds of invitation: who asked, what to paste, and what stays private. */
interface KindText {
  title: string;
  intro: string;
  /** What goes in the command, in words. */
  placeholder: string;
  /** How what to paste looks, so people recognise it; given escaped values. */
  recognise: (escaped: { linkStart: string; nameplate: string }) => string;
  afterCommand: string;
  privacy: string;
}

const kindTexts: Record<InvitationKind, KindText> = {
  file: {
    title: 'Someone asked you for help',
    intro: 'Someone sent you an invitation to help them with their computer through Assist Relay.',
    placeholder: 'the full link you received, including the part after #',
    recognise: ({ linkStart }) => `The link starts with <code>${linkStart}</code>.`,
    afterCommand:
      'You will then be asked for the password. The person who asked for help tells it to you separately, for example on the phone: 8 characters like <code>XXXX-XXXX</code>. It is neither in the link nor in the email.',
    privacy:
      'The part of the link after <code>#</code> stays on your computer: browsers and the command never send it to a server, so this relay has not seen it and cannot join in your place.',
  },
  'easy-connect': {
    title: 'Someone asked you for help',
    intro: 'Someone asked you to help them with their computer through Assist Relay.',
    placeholder: 'the 12-character password they read to you',
    recognise: ({ nameplate }) => `The password looks like <code>${nameplate}-XXXX-XXXX</code>.`,
    afterCommand: 'Then wait: the person who asked for help is asked to let you in.',
    privacy:
      'Only the first 4 characters of the password reach this relay; the other 8 stay between you and the person you help.',
  },
  'helper-code': {
    title: 'A technician offered to help you',
    intro: 'A technician offered to help you with your computer through Assist Relay.',
    placeholder: 'the 12-character code the technician read to you',
    recognise: ({ nameplate }) => `The code looks like <code>${nameplate}-XXXX-XXXX</code>.`,
    afterCommand: 'You will then be asked whether to let the technician see or control your computer; you can stop at any time.',
    privacy:
      'Only the first 4 characters of the code reach this relay; the other 8 stay between you and the technician.',
  },
};

function openPage(view: Extract<JoinPageView, { state: 'open' }>): string {
  const text = kindTexts[view.kind];
  const escaped = {
    nameplate: escapeHtml(view.nameplate),
    linkStart: escapeHtml(`${view.httpUrl.replace(/\/+$/, '')}/join/${view.nameplate}#`),
  };
  return page(
    text.title,
    `<p>${text.intro}</p>
<p>The invitation is valid until <time datetime="${escapeHtml(view.expiresAt.toISOString())}">${escapeHtml(formatUtcTime(view.expiresAt))}</time>.
Only accept it if you know who it comes from and expected it.</p>
<h2>Join now</h2>
<p id="join-command">Run this command in a terminal, keeping the quotes:</p>
<pre aria-labelledby="join-command"><code>npx assist join '&lt;${escapeHtml(text.placeholder)}&gt;'</code></pre>
<p>${text.recognise(escaped)}</p>
<p>${text.afterCommand}</p>
<h2>Your privacy</h2>
<p>${text.privacy}</p>`,
  );
}

const unknownPage = page(
  'This invitation has expired or does not exist',
  `<p>Invitations work for a limited time and only once. This one may have expired, been used or withdrawn,
or the link may be incomplete.</p>
<h2>What to do</h2>
<p>Ask the person who invited you for a new invitation.</p>`,
);

export function renderJoinPage(view: JoinPageView): HttpResponse {
  if (view.state === 'unknown') return { statusCode: 404, headers: { ...pageHeaders }, body: unknownPage };
  if (view.state === 'rate-limited') {
    const body = page('Too many invitation links opened', `<p>${escapeHtml(`This network address opened or joined too many invitations: ${view.message}.`)}</p>`);
    return { statusCode: 429, headers: { ...pageHeaders }, body };
  }
  return { statusCode: 200, headers: { ...pageHeaders }, body: openPage(view) };
}

/** `/relay.json`: public, so any web page may read it. */
export function renderRelayInfo(relay: RelayUrls): HttpResponse {
  return {
    statusCode: 200,
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'access-control-allow-origin': '*',
      'x-content-type-options': 'nosniff',
      'cache-control': 'public, max-age=300',
    },
    body: JSON.stringify({ version: 1, webSocketUrl: relay.webSocketUrl, httpUrl: relay.httpUrl }),
  };
}
