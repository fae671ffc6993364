// The device's consent prompt for a help-desk offer (docs/help-desk.md): a page the agent serves on
// 127.0.0.1 at a random port, under a random 256-bit path only this process and the browser it opens know,
// so another local user (who can reach the port) cannot answer it. It shows who asks (from the verified
// token), the reason and the verification code, and takes one answer: allow view, allow control (only when
// the group policy allows control), or deny. No answer in time is a denial. For "notice" groups the same page
// says, for the whole session, who is connected.

import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { systemClock, type Clock } from '../sdk/node.js';
import type { ApprovalMode } from '../shared/core/messages.js';

export interface OfferDetails {
  technician: { name: string; email?: string; organisation: string };
  reason: string;
  deviceName: string;
  verificationCode: string;
}

export type ConsentAnswer = ApprovalMode | 'deny' | 'timeout';

/** Longest the body of an answer may be: a form with one short field. */
const MAX_BODY_BYTES = 256;

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);

type PageState = { kind: 'asking'; levels: readonly ApprovalMode[] } | { kind: 'answered'; answer: ConsentAnswer } | { kind: 'notice'; level: ApprovalMode } | { kind: 'ended' };

const ANSWER_TEXT: Record<ConsentAnswer, string> = {
  view: 'You allowed the technician to see this device.',
  control: 'You allowed the technician to see and control this device.',
  deny: 'You denied the offer: nothing is shared.',
  timeout: 'No answer in time: the offer was denied, nothing is shared.',
};

function page(details: OfferDetails, state: PageState, secondsLeft: number): string {
  const { technician } = details;
  const who = `${escapeHtml(technician.name)}${technician.email ? ` &lt;${escapeHtml(technician.email)}&gt;` : ''} of ${escapeHtml(technician.organisation)}`;
  const facts = `<dl><dt>Technician</dt><dd id="technician">${who}</dd><dt>Reason</dt><dd id="reason">${escapeHtml(details.reason)}</dd>
<dt>Verification code</dt><dd id="verification">${escapeHtml(details.verificationCode)}</dd></dl>`;
  let body: string;
  switch (state.kind) {
    case 'asking':
      body = `<h1>The help desk offers help on ${escapeHtml(details.deviceName)}</h1>${facts}
<p>Ask the technician to read you the verification code; answer only if it matches. Without an answer within
<span id="seconds">${secondsLeft}</span> seconds the offer is denied.</p>
<form method="post">${state.levels.map((level) => `<button name="answer" value="${level}">${level === 'view' ? 'Allow view' : 'Allow control'}</button>`).join(' ')}
<button name="answer" value="deny">Deny</button></form>`;
      break;
    case 'answered':
      body = `<h1>${escapeHtml(details.deviceName)}</h1>${facts}<p id="outcome">${ANSWER_TEXT[state.answer]}</p>`;
      break;
    case 'notice':
      body = `<h1>A technician is connected to ${escapeHtml(details.deviceName)}</h1>${facts}
<p id="outcome">Your organisation's policy lets this technician connect without asking; they can ${state.level === 'control' ? 'see and control' : 'see'} this device until the session ends.</p>`;
      break;
    case 'ended':
      body = `<h1>${escapeHtml(details.deviceName)}</h1><p id="outcome">The help-desk session has ended.</p>`;
      break;
  }
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Help desk offer</title>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; form-action 'self'">
<style>body{font-family:sans-serif;max-width:40em;margin:2em auto}dd{font-weight:bold}#verification{font-size:2em;letter-spacing:.2em}button{font-size:1.2em;margin:.3em}</style>
</head><body>${body}</body></html>`;
}

export interface ConsentPage {
  /** http://127.0.0.1:PORT/<secret>: for the person's browser only. */
  readonly url: string;
  /** Asks: resolves with the person's answer, or 'timeout' after `timeoutMs`. Only levels listed are offered. */
  ask(levels: readonly ApprovalMode[], timeoutMs: number): Promise<ConsentAnswer>;
  /** An answer given elsewhere (the terminal): settles the question as a click would. */
  answer(answer: ApprovalMode | 'deny'): void;
  /** Shows, until ended, that a technician is connected without having asked (a "notice" group). */
  notice(level: ApprovalMode): void;
  /** The session ended: the page says so; then the server stops. */
  close(): Promise<void>;
}

export async function openConsentPage(details: OfferDetails, clock: Clock = systemClock): Promise<ConsentPage> {
  const secret = randomBytes(32).toString('base64url');
  const path = `/${secret}`;
  let state: PageState = { kind: 'ended' };
  let deadline = 0;
  let settle: ((answer: ConsentAnswer) => void) | undefined;

  const finish = (answer: ConsentAnswer) => {
    if (state.kind !== 'asking') return;
    state = { kind: 'answered', answer };
    settle?.(answer);
  };

  const reply = (response: ServerResponse, status: number, html: string) => {
    response.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' });
    response.end(html);
  };

  const readAnswer = (request: IncomingMessage) =>
    new Promise<string | undefined>((resolve) => {
      let body = '';
      request.setEncoding('utf8');
      request.on('data', (chunk: string) => {
        body += chunk;
        if (body.length > MAX_BODY_BYTES) request.destroy();
      });
      request.on('end', () => resolve(new URLSearchParams(body).get('answer') ?? undefined));
      request.on('error', () => resolve(undefined));
    });

  const server = createServer(async (request, response) => {
    // Anything but the secret path is unknown: the port alone answers nothing.
    if (request.url !== path) return reply(response, 404, '<!doctype html><title>Not found</title>');
    if (request.method === 'POST') {
      const answer = await readAnswer(request);
      if (state.kind === 'asking' && (answer === 'deny' || state.levels.includes(answer as ApprovalMode))) finish(answer as ConsentAnswer);
      // Post/redirect/get: a reload does not answer twice.
      response.writeHead(303, { location: path });
      return response.end();
    }
    reply(response, 200, page(details, state, Math.max(0, Math.ceil((deadline - clock.now()) / 1000))));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}${path}`,
    ask(levels, timeoutMs) {
      state = { kind: 'asking', levels };
      deadline = clock.now() + timeoutMs;
      return new Promise<ConsentAnswer>((resolve) => {
        const cancel = clock.schedule(timeoutMs, () => finish('timeout'));
        settle = (answer) => {
          cancel();
          resolve(answer);
        };
      });
    },
    answer(answer) {
      if (state.kind === 'asking' && (answer === 'deny' || state.levels.includes(answer))) finish(answer);
    },
    notice(level) {
      state = { kind: 'notice', level };
    },
    async close() {
      finish('deny');
      state = { kind: 'ended' };
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
