// `assist agent` answering a help-desk offer (docs/help-desk.md): the device checks the offer itself
// (decideOffer: the operator's signature on the group policy, the rule for the technician's groups, the code
// sealed to its key), joins the technician's session with that code (the ordinary end-to-end handshake, so
// both sides derive the verification code), then asks the person on a local page (and on the terminal, when
// there is one) unless the policy says "notice"; no answer in time is a denial. Allowed, the session is
// approved at the chosen level; the relay is told the answer (and audits it) either way.

import { execFile } from 'node:child_process';
import { platform } from 'node:os';
import { createInterface } from 'node:readline';
import { acceptHelp, decideOffer, OfferRefusedError, organisationOf, type Clock, type DeviceAgent, type DeviceOffer, type OfferDecision } from '../sdk/node.js';
import type { ApprovalMode } from '../shared/core/messages.js';
import { openConsentPage, type ConsentAnswer, type ConsentPage } from './consent-page.js';
import type { DeviceState } from './device-state.js';

export interface OfferHandling {
  /** Says one thing that happened: a JSON event, or its sentence. */
  say(event: Record<string, unknown> & { event: string }, sentence: string): void;
  consentTimeoutMs: number;
  /** Open the page in the default browser (there is a desktop and --no-browser was not given). */
  openBrowser: boolean;
  /** The newest group-policy date this device accepted: an older one is a relay rolling it back. */
  policyNotBefore: number;
  /** Times the question (tests pass a manual one). */
  clock?: Clock;
}

/** Whether this machine has a desktop session a browser can open in. */
export const hasDesktop = () => platform() === 'darwin' || platform() === 'win32' || Boolean(process.env.DISPLAY || process.env.WAYLAND_DISPLAY);

function openInBrowser(url: string): void {
  const [command, args] = platform() === 'darwin' ? ['open', [url]] : platform() === 'win32' ? ['cmd', ['/c', 'start', '', url]] : ['xdg-open', [url]];
  // No browser is no failure: the URL is printed as well.
  execFile(command, args as string[], () => {});
}

/** The terminal, when the agent has one: v, c (when allowed) or d answers as the page does. */
function askOnTerminal(page: ConsentPage, levels: readonly ApprovalMode[]): () => void {
  if (!process.stdin.isTTY) return () => {};
  const lines = createInterface({ input: process.stdin });
  process.stdout.write(`Answer here or on the page: v = allow view${levels.includes('control') ? ', c = allow control' : ''}, d = deny\n`);
  lines.on('line', (line) => {
    const answer = { v: 'view', c: 'control', d: 'deny' }[line.trim().toLowerCase()] as ApprovalMode | 'deny' | undefined;
    if (answer) page.answer(answer);
  });
  return () => lines.close();
}

async function consent(decision: OfferDecision, page: ConsentPage, handling: OfferHandling): Promise<ConsentAnswer> {
  if (decision.rule.consent === 'notice') {
    page.notice(decision.rule.level);
    if (handling.openBrowser) openInBrowser(page.url);
    return decision.rule.level;
  }
  const answer = page.ask(decision.levels, handling.consentTimeoutMs);
  if (handling.openBrowser) openInBrowser(page.url);
  const stopTerminal = askOnTerminal(page, decision.levels);
  try {
    return await answer;
  } finally {
    stopTerminal();
  }
}

/** Handles one offer to the end of its session (or its refusal). */
export async function handleOffer(agent: DeviceAgent, identity: DeviceState, offer: DeviceOffer, handling: OfferHandling): Promise<void> {
  const { technician } = offer;
  let decision: OfferDecision;
  try {
    decision = await decideOffer(offer, identity, handling.policyNotBefore);
  } catch (error) {
    if (!(error instanceof OfferRefusedError)) throw error;
    handling.say({ event: 'offer-refused', code: error.code, message: error.message }, `Refused an offer from ${technician.name}: ${error.message}`);
    await agent.answerOffer(offer.sessionId, error.code);
    return;
  }
  handling.policyNotBefore = Math.max(handling.policyNotBefore, decision.policy.issuedAt);
  const relay = identity.relay.httpUrl === undefined ? identity.relay.webSocketUrl : { webSocketUrl: identity.relay.webSocketUrl, httpUrl: identity.relay.httpUrl };
  const session = await acceptHelp({ relay, code: decision.code, name: identity.name });
  const ended = new Promise<string>((resolve) => session.on('ended', ({ reason }) => resolve(reason)));
  const { verificationCode } = await new Promise<{ verificationCode: string }>((resolve) => session.on('expert', resolve));
  const page = await openConsentPage(
    {
    technician: { name: technician.name, ...(technician.email === undefined ? {} : { email: technician.email }), organisation: organisationOf(technician) },
    reason: offer.reason,
    deviceName: identity.name,
      verificationCode,
    },
    handling.clock,
  );
  try {
    handling.say(
      { event: 'offer', technician: technician.name, email: technician.email, reason: offer.reason, consent: decision.rule.consent, verification: verificationCode, page: page.url },
      `${technician.name}${technician.email ? ` <${technician.email}>` : ''} offers help: ${offer.reason}\nVerification code ${verificationCode}. ${
        decision.rule.consent === 'ask' ? `Answer within ${Math.round(handling.consentTimeoutMs / 1000)} s on ${page.url}` : `Connecting without asking (policy); notice on ${page.url}`
      }`,
    );
    const answer = await consent(decision, page, handling);
    await agent.answerOffer(offer.sessionId, answer === 'timeout' ? 'no-answer' : answer);
    handling.say({ event: 'offer-answered', answer }, answer === 'view' || answer === 'control' ? `Allowed ${answer}.` : answer === 'timeout' ? 'No answer in time: denied.' : 'Denied.');
    // A denial is also said inside the encrypted channel, as an invited session's is (the relay ends it either way).
    if (answer === 'view' || answer === 'control') await session.approve(answer);
    else await session.deny().catch(() => {});
    const reason = await ended;
    handling.say({ event: 'offer-session-ended', reason }, `The help-desk session ended (${reason}).`);
  } finally {
    await page.close();
  }
}
