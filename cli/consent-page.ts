// The device's page for a help-desk offer (docs/help-desk.md): served on 127.0.0.1 at a random port, under a
// random 256-bit path only this process and the browser it opens know, so another local user (who can reach
// the port) cannot use it. First the consent prompt: who asks (from the verified token), the reason, the
// verification code, what allowing shares, and one answer: allow view, allow control (only when the group
// policy allows control), or deny; no answer in time is a denial. Then, for the whole session, the session
// page: who watches or controls, what is shared, and pause/resume, take back/give control, stop sharing the
// desktop, chat and end. It works without scripts (forms, post/redirect/get); a script with the page's nonce
// long-polls for changes so the status follows the session without a reload.

import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MAX_CHAT_BYTES, systemClock, type Clock } from '../sdk/node.js';
import type { ApprovalMode, EndReason, LocalEndReason } from '../shared/core/messages.js';
import type { Command, SessionEvent } from './events.js';
import { endText } from '../shared/core/end-texts.js';

/** What allowing the offer shares, said before the answer: the desktop, a shell in the agent's terminal, or nothing (and why). */
export type OfferedShare = { kind: 'desktop' } | { kind: 'terminal'; noDesktop: string } | { kind: 'nothing'; noDesktop: string };

export interface OfferDetails {
  technician: { name: string; email?: string; organisation: string };
  reason: string;
  deviceName: string;
  verificationCode: string;
  shares: OfferedShare;
}

export type ConsentAnswer = ApprovalMode | 'deny' | 'timeout';

/** The session page's buttons, as the commands they give (the same as the terminal's keys). */
export type PageCommand = Extract<Command, { cmd: 'pause' | 'resume' | 'grant-control' | 'revoke-control' | 'refuse-control' | 'stop-desktop' | 'clipboard' | 'end' | 'chat' }>;

/** Longest body of a form post: a chat message, percent-encoded. */
const MAX_BODY_BYTES = MAX_CHAT_BYTES * 3 + 64;
/**
 * Once the session is over, how long the server waits for a page that follows it to fetch the end (its next
 * long-poll comes moments after the previous change), and for requests under way.
 */
const CLOSE_GRACE_MS = 3000;
/** Chat lines kept on the page. */
const CHAT_LINES = 50;

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);

interface Live {
  /** A "notice" group: connected without asking. */
  notice: boolean;
  /** The group policy allows control. */
  controlAllowed: boolean;
  control: boolean;
  paused: boolean;
  controlRequested: boolean;
  /** The desktop share runs (its monitor's number). */
  desktop?: { monitor?: number };
  /** Clipboard text follows both ways (the person shared it, as `assist invite --clipboard` does; off until they do). */
  clipboard: boolean;
  chat: Array<{ from: string; text: string }>;
  /** The last problem worth telling (a desktop that could not be shared, a refused button). */
  problem?: string;
}

type PageState =
  /** Before the question, or (a "notice" group) before the session: a browser may open the page already. */
  | { kind: 'connecting' }
  | { kind: 'asking'; levels: readonly ApprovalMode[] }
  /** Allowed: the session page follows once the session is approved. */
  | { kind: 'allowed'; answer: ApprovalMode }
  | { kind: 'denied'; answer: 'deny' | 'timeout' }
  | { kind: 'live'; live: Live }
  | { kind: 'ended'; reason?: EndReason | LocalEndReason };

const ANSWER_TEXT: Record<ConsentAnswer, string> = {
  view: 'You allowed the technician to see this device.',
  control: 'You allowed the technician to see and control this device.',
  deny: 'You denied the offer: nothing is shared.',
  timeout: 'No answer in time: the offer was denied, nothing is shared.',
};

const BUTTON_TEXT: Record<ApprovalMode, Record<OfferedShare['kind'], string>> = {
  view: { desktop: 'Allow view', terminal: 'Share a shell: view only', nothing: 'Allow view' },
  control: { desktop: 'Allow control', terminal: 'Share a shell: with control', nothing: 'Allow control' },
};

function sharesSentence(shares: OfferedShare): string {
  switch (shares.kind) {
    case 'desktop':
      return 'Allowing shares this screen: allow view lets the technician see it; allow control also lets them use its mouse and keyboard.';
    case 'terminal':
      return `There is no desktop to share here (${escapeHtml(shares.noDesktop)}). Allowing starts a shell in the terminal where assist agent runs and shares it: with control the technician can type commands in it.`;
    case 'nothing':
      return `There is no desktop to share here (${escapeHtml(shares.noDesktop)}), and the agent runs without a terminal (as a service), so it shares no shell: allowing lets the technician chat with you only.`;
  }
}

function liveBody(details: OfferDetails, live: Live): string {
  const name = escapeHtml(details.technician.name);
  const doing = live.paused ? `Paused: ${name} sees nothing` : live.control ? `${name} is controlling this device` : `${name} is watching this device`;
  const shared =
    details.shares.kind === 'desktop'
      ? live.desktop
        ? `Your screen${live.desktop.monitor === undefined ? '' : ` (monitor ${live.desktop.monitor})`} is shared.`
        : 'Your screen is not shared (any more).'
      : details.shares.kind === 'terminal'
        ? 'A shell in the terminal where assist agent runs is shared.'
        : `Nothing is shared (no desktop here: ${escapeHtml(details.shares.noDesktop)}); you can chat.`;
  const control = live.control ? `${name} can use ${details.shares.kind === 'terminal' ? 'the shell' : 'your mouse and keyboard'}.` : `${name} can only watch.`;
  const button = (command: string, text: string) => `<button name="do" value="${command}">${text}</button>`;
  const buttons = [
    live.paused ? button('resume', 'Resume') : button('pause', 'Pause'),
    live.control ? button('revoke-control', 'Take back control') : live.controlAllowed ? button('grant-control', 'Give control') : '',
    live.controlRequested && !live.control ? button('refuse-control', 'Say no to control') : '',
    live.desktop ? button('stop-desktop', 'Stop sharing the screen') : '',
    // The clipboard goes with a desktop (the device's own clipboard); an invited person shares it the same way.
    details.shares.kind === 'desktop' ? (live.clipboard ? button('clipboard-off', 'Stop sharing the clipboard') : button('clipboard-on', 'Share the clipboard')) : '',
    button('end', 'End session'),
  ].join(' ');
  const requested = live.controlRequested && !live.control ? `<p id="request">${name} asks for control.${live.controlAllowed ? '' : ' Your organisation’s policy allows view only.'}</p>` : '';
  const notice = live.notice ? '<p>Your organisation’s policy lets this technician connect without asking.</p>' : '';
  const chat = live.chat.map(({ from, text }) => `<li><b>${escapeHtml(from)}:</b> ${escapeHtml(text)}</li>`).join('');
  const clipboard = live.clipboard ? ' Clipboard text follows both ways.' : '';
  return `<h1 id="doing">${doing}</h1>${notice}<p id="status">${shared} ${live.paused ? '' : control}${clipboard}</p>${requested}
${live.problem ? `<p id="problem">${escapeHtml(live.problem)}</p>` : ''}<form method="post">${buttons}</form><ul id="chat">${chat}</ul>`;
}

function stateBody(details: OfferDetails, state: PageState, secondsLeft: number): string {
  switch (state.kind) {
    case 'asking':
      return `<h1>The help desk offers help on ${escapeHtml(details.deviceName)}</h1>
<p id="shares">${sharesSentence(details.shares)}</p>
<p>Ask the technician to read you the verification code; answer only if it matches. Without an answer within
<span id="seconds">${secondsLeft}</span> seconds the offer is denied.</p>
<form method="post">${state.levels.map((level) => `<button name="answer" value="${level}">${BUTTON_TEXT[level][details.shares.kind]}</button>`).join(' ')}
<button name="answer" value="deny">Deny</button></form>`;
    case 'connecting':
      return `<h1>${escapeHtml(details.deviceName)}</h1><p id="outcome">The help desk is connecting…</p>`;
    case 'allowed':
    case 'denied':
      return `<h1>${escapeHtml(details.deviceName)}</h1><p id="outcome">${ANSWER_TEXT[state.answer]}</p>`;
    case 'live':
      return liveBody(details, state.live);
    case 'ended':
      return `<h1>${escapeHtml(details.deviceName)}</h1><p id="outcome">The help-desk session has ended.${
        state.reason ? ` ${escapeHtml(endText(state.reason, 'person', { peerName: details.technician.name }))}` : ''
      }</p>`;
  }
}

function page(details: OfferDetails, state: PageState, version: number, secondsLeft: number, nonce: string): string {
  const { technician } = details;
  const who = `${escapeHtml(technician.name)}${technician.email ? ` &lt;${escapeHtml(technician.email)}&gt;` : ''} of ${escapeHtml(technician.organisation)}`;
  const facts = `<dl><dt>Technician</dt><dd id="technician">${who}</dd><dt>Reason</dt><dd id="reason">${escapeHtml(details.reason)}</dd>
<dt>Verification code</dt><dd id="verification">${escapeHtml(details.verificationCode)}</dd></dl>`;
  const chatForm =
    state.kind === 'live'
      ? `<form method="post"><input type="hidden" name="do" value="chat"><label>Message to ${escapeHtml(technician.name)} <input name="text" maxlength="${MAX_CHAT_BYTES}" required></label> <button>Send</button></form>`
      : '';
  // Follows the session: a change replaces the live part; a new stage (answered on the terminal, the session started) reloads, for its forms; the end stops it.
  const script = `<script type="module" nonce="${nonce}">
let version = ${version};
const live = document.getElementById('live');
for (;;) {
  let changed;
  try { changed = await (await fetch(location.pathname + '/changes?after=' + version, { cache: 'no-store' })).json(); } catch { break; }
  version = changed.version;
  const over = changed.kind === 'denied' || changed.kind === 'ended';
  if (!over && changed.kind !== live.dataset.kind) { location.reload(); break; }
  live.innerHTML = changed.html;
  if (over) break;
}
</script>`;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Help desk: ${escapeHtml(details.deviceName)}</title>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'nonce-${nonce}'; connect-src 'self'; form-action 'self'">
<style>body{font-family:sans-serif;max-width:40em;margin:2em auto}dd{font-weight:bold}#verification{font-size:2em;letter-spacing:.2em}button{font-size:1.2em;margin:.3em}#problem{color:#a00}</style>
</head><body><div id="live" data-kind="${state.kind}">${stateBody(details, state, secondsLeft)}</div>${state.kind === 'ended' ? '' : facts}${chatForm}${state.kind === 'ended' || state.kind === 'denied' ? '' : script}</body></html>`;
}

export interface SessionPageOptions {
  mode: ApprovalMode;
  /** A "notice" group: connected without asking. */
  notice: boolean;
  /** The group policy allows control: the page offers to give it. */
  controlAllowed: boolean;
}

export interface ConsentPage {
  /** http://127.0.0.1:PORT/<secret>: for the person's browser only. */
  readonly url: string;
  /** Asks: resolves with the person's answer, or 'timeout' after `timeoutMs`. Only levels listed are offered. */
  ask(levels: readonly ApprovalMode[], timeoutMs: number): Promise<ConsentAnswer>;
  /** An answer given elsewhere (the terminal): settles the question as a click would. */
  answer(answer: ApprovalMode | 'deny'): void;
  /** The offer was allowed (or a "notice" group connected): from now on the session page, whose buttons give `onCommand`. */
  startSession(options: SessionPageOptions, onCommand: (command: PageCommand) => void): void;
  /** What happened in the session: the page follows it. */
  show(event: SessionEvent): void;
  /** The session ended: the page says so; then the server stops. */
  close(): Promise<void>;
}

/** Reads a form post's fields, at most MAX_BODY_BYTES (a longer one is cut off and ignored). */
const readForm = (request: IncomingMessage) =>
  new Promise<URLSearchParams>((resolve) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => {
      body += chunk;
      if (body.length > MAX_BODY_BYTES) request.destroy();
    });
    request.on('end', () => resolve(new URLSearchParams(body)));
    request.on('error', () => resolve(new URLSearchParams()));
  });

/** A button of the session page, if it is one the page shows now (a forged one, e.g. control the policy forbids, is ignored). */
function pageCommand(form: URLSearchParams, live: Live, shares: OfferedShare['kind']): PageCommand | undefined {
  switch (form.get('do')) {
    case 'clipboard-on':
    case 'clipboard-off': {
      const allowed = form.get('do') === 'clipboard-on';
      return shares === 'desktop' && live.clipboard !== allowed ? { cmd: 'clipboard', allowed } : undefined;
    }
    case 'pause':
      return live.paused ? undefined : { cmd: 'pause' };
    case 'resume':
      return live.paused ? { cmd: 'resume' } : undefined;
    case 'grant-control':
      return live.controlAllowed && !live.control ? { cmd: 'grant-control' } : undefined;
    case 'revoke-control':
      return live.control ? { cmd: 'revoke-control' } : undefined;
    case 'refuse-control':
      return live.controlRequested && !live.control ? { cmd: 'refuse-control' } : undefined;
    case 'stop-desktop':
      return live.desktop ? { cmd: 'stop-desktop' } : undefined;
    case 'end':
      return { cmd: 'end' };
    case 'chat': {
      const text = form.get('text')?.trim();
      return text && new TextEncoder().encode(text).length <= MAX_CHAT_BYTES ? { cmd: 'chat', text } : undefined;
    }
    default:
      return undefined;
  }
}

/** The page's view of one session event. */
function follow(live: Live, event: SessionEvent, technician: string): void {
  switch (event.event) {
    case 'approved':
      live.control = event.mode === 'control';
      return;
    case 'control':
      if (event.state === 'granted' || event.state === 'revoked') live.control = event.state === 'granted';
      live.controlRequested = false;
      return;
    case 'control-requested':
      live.controlRequested = true;
      return;
    case 'paused':
    case 'resumed':
      live.paused = event.event === 'paused';
      return;
    case 'desktop-share':
      if (event.state === 'started') live.desktop = { monitor: event.monitor };
      else delete live.desktop;
      return;
    case 'clipboard-allowed':
      live.clipboard = event.allowed;
      return;
    case 'desktop-error':
    case 'error':
      live.problem = event.message;
      return;
    case 'chat':
      live.chat = [...live.chat, { from: technician, text: event.text }].slice(-CHAT_LINES);
      return;
  }
}

export async function openConsentPage(details: OfferDetails, clock: Clock = systemClock): Promise<ConsentPage> {
  const secret = randomBytes(32).toString('base64url');
  const path = `/${secret}`;
  const changesPath = `${path}/changes`;
  let state: PageState = { kind: 'connecting' };
  let deadline = 0;
  let settle: ((answer: ConsentAnswer) => void) | undefined;
  let onCommand: ((command: PageCommand) => void) | undefined;
  /** Counts changes; long-polls wait for the next. */
  let version = 0;
  let waiting: Array<() => void> = [];
  /** A page follows the session (its script long-polls): at the end, the server waits for it to fetch the end. */
  let followed = false;
  /** Resolves once a page has been told the final state. */
  let toldTheEnd: () => void = () => {};
  const endTold = new Promise<void>((resolve) => (toldTheEnd = resolve));

  const changed = () => {
    version++;
    for (const wake of waiting.splice(0)) wake();
  };

  const finish = (answer: ConsentAnswer) => {
    if (state.kind !== 'asking') return;
    state = answer === 'deny' || answer === 'timeout' ? { kind: 'denied', answer } : { kind: 'allowed', answer };
    changed();
    settle?.(answer);
  };

  const reply = (response: ServerResponse, status: number, type: string, body: string) => {
    response.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' });
    response.end(body);
  };

  const answerChanges = (response: ServerResponse) => {
    reply(response, 200, 'application/json', JSON.stringify({ version, kind: state.kind, html: stateBody(details, state, secondsLeft()) }));
    if (state.kind === 'ended' || state.kind === 'denied') toldTheEnd();
  };
  const secondsLeft = () => Math.max(0, Math.ceil((deadline - clock.now()) / 1000));

  const server = createServer(async (request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    if (request.method === 'GET' && url.pathname === changesPath && url.search.startsWith('?after=')) {
      followed = true;
      // Answered at once when something changed since, or the page is over; else at the next change.
      if (Number(url.searchParams.get('after')) !== version || state.kind === 'ended') return answerChanges(response);
      const wake = () => answerChanges(response);
      waiting.push(wake);
      response.on('close', () => (waiting = waiting.filter((other) => other !== wake)));
      return;
    }
    // Anything but the secret path is unknown: the port alone answers nothing.
    if (request.url !== path) return reply(response, 404, 'text/html; charset=utf-8', '<!doctype html><title>Not found</title>');
    if (request.method === 'POST') {
      const form = await readForm(request);
      const answer = form.get('answer');
      if (state.kind === 'asking' && (answer === 'deny' || state.levels.includes(answer as ApprovalMode))) finish(answer as ConsentAnswer);
      if (state.kind === 'live') {
        const command = pageCommand(form, state.live, details.shares.kind);
        if (command?.cmd === 'chat') {
          state.live.chat = [...state.live.chat, { from: 'You', text: command.text }].slice(-CHAT_LINES);
          changed();
        }
        if (command) onCommand?.(command);
      }
      // Post/redirect/get: a reload does not answer twice.
      response.writeHead(303, { location: path });
      return response.end();
    }
    reply(response, 200, 'text/html; charset=utf-8', page(details, state, version, secondsLeft(), randomBytes(16).toString('base64')));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}${path}`,
    ask(levels, timeoutMs) {
      state = { kind: 'asking', levels };
      deadline = clock.now() + timeoutMs;
      changed();
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
    startSession({ mode, notice, controlAllowed }, listener) {
      onCommand = listener;
      state = { kind: 'live', live: { notice, controlAllowed, control: mode === 'control', paused: false, controlRequested: false, clipboard: false, chat: [] } };
      changed();
    },
    show(event) {
      if (event.event === 'ended') state = { kind: 'ended', reason: event.reason };
      else if (state.kind === 'live') follow(state.live, event, details.technician.name);
      else return;
      changed();
    },
    async close() {
      finish('deny');
      if (state.kind !== 'denied') state = { kind: 'ended', ...(state.kind === 'ended' && state.reason ? { reason: state.reason } : {}) };
      changed();
      onCommand = undefined;
      // Open long-polls were just answered; a page whose next one is on its way gets the end too.
      let grace: NodeJS.Timeout | undefined;
      if (followed) await Promise.race([endTold, new Promise<void>((resolve) => (grace = setTimeout(resolve, CLOSE_GRACE_MS)))]);
      clearTimeout(grace);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      // A connection still busy (a reload under way) is not waited for long.
      setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS).unref();
      await closed;
    },
  };
}
