// `assist agent` answering a help-desk offer (docs/help-desk.md): the device checks the offer itself
// (decideOffer: the technician's ID token against the pinned issuer and their signature over the offer, the
// operator's signature on the group policy, the rule for the technician's groups, the code sealed to its key),
// joins the technician's session with that code (the ordinary end-to-end handshake, so
// both sides derive the verification code), then asks the person on a local page (and on the terminal, when
// there is one) unless the policy says "notice"; no answer in time is a denial. Allowed, the session runs as
// an invited one does (runAgent): the desktop is shared as `assist invite --desktop` shares it, at the level
// the person chose, and the page becomes the session page (pause, control, chat, end). The level the group
// policy allows is enforced here too: control it does not allow is never given, whatever asks for it.
//
// Without a desktop to share (no display, a Wayland session, capture packages missing) the agent shares a
// shell only when a person sees it: it runs in an interactive terminal (not --json, not as a service) and
// the person presses the page's explicit "Share a shell" button. An agent run as a service never starts a
// shell: nobody on the device would see what is typed in it, and under a system service it would be root's.
// Then only chat is possible, and both sides are told so.

import { execFile } from 'node:child_process';
import { platform } from 'node:os';
import { createInterface } from 'node:readline';
import { acceptHelp, decideOffer, type AgentSession, OfferRefusedError, organisationOf, type Clock, type DeviceAgent, type DeviceOffer, type OfferChecks, type OfferDecision } from '../sdk/node.js';
import type { ApprovalMode } from '../shared/core/messages.js';
import { runAgent } from './agent.js';
import { openConsentPage, type ConsentAnswer, type ConsentPage, type OfferedShare } from './consent-page.js';
import type { PreparedDesktop } from './desktop/desktop-share.js';
import { DesktopError, type DesktopErrorCode } from './desktop/errors.js';
import type { DeviceState } from './device-state.js';
import type { Command } from './events.js';
import type { Frontend } from './frontend.js';

export interface OfferHandling {
  /** Says one thing that happened: a JSON event, or its sentence. */
  say(event: Record<string, unknown> & { event: string }, sentence: string): void;
  consentTimeoutMs: number;
  /** Open the page in the default browser (there is a desktop and --no-browser was not given). */
  openBrowser: boolean;
  /** What offers are checked against; its policyNotBefore rises with each newer policy accepted. */
  checks: Omit<OfferChecks, 'now'>;
  /** Keeps a newly accepted policy date where a restarted agent finds it (device.json), so a rollback stays refused. */
  rememberPolicy(issuedAt: number): void;
  /** Keeps the offers taken lately (checks.recentOffers) where a restarted agent finds them, so a replay stays refused. */
  rememberOffers(seen: ReadonlyMap<string, number>): void;
  /** Times the question (tests pass a manual one). */
  clock?: Clock;
  /** The wall clock (epoch ms) offers' dates and ID tokens are checked with; default Date.now. */
  now?: () => number;
  /** The agent is stopping (Ctrl-C, SIGTERM): a question open is denied, a session under way ended. */
  stopping?: AbortSignal;
  /**
   * The agent runs in an interactive terminal a person sees (not --json, stdin and stdout terminals): the
   * question can be answered there, the session's keys work there, and without a desktop a shell can be shared in it.
   */
  terminal: boolean;
  /** This machine's desktop, checked and ready to share (prepareDesktop); throws where there is none. */
  prepareDesktop: () => PreparedDesktop;
  /** Where the session is shown besides the page (the terminal's interface, or the agent's log): what was allowed, to whom. */
  sessionFrontend: (session: { technician: string; shares: OfferedShare['kind']; controlAllowed: boolean }) => Frontend;
}

/** Why there is no desktop to share, in a few words for the page and the technician. */
const NO_DESKTOP: Partial<Record<DesktopErrorCode, string>> = {
  'no-display': 'the agent runs outside a graphical session: no display',
  wayland: 'a Wayland session, whose screen cannot be captured',
  'native-package-missing': 'the screen capture packages are not installed',
  'no-monitor': 'no monitor was found',
};

/** What allowing shares, in the agent's own output. */
const SHARES_SENTENCE: Record<OfferedShare['kind'], string> = {
  desktop: 'Allowing shares this desktop.',
  terminal: 'There is no desktop to share here: allowing starts a shell in this terminal and shares it.',
  nothing: 'There is no desktop to share here, and no shell is shared from a service: allowing lets them chat only.',
};

/** What allowing an offer will share here: the desktop when it can be, else a shell (only in a terminal a person sees), else nothing. */
function whatToShare(handling: OfferHandling): { shares: OfferedShare; desktop?: PreparedDesktop; problem?: DesktopError } {
  try {
    return { shares: { kind: 'desktop' }, desktop: handling.prepareDesktop() };
  } catch (error) {
    const problem = error instanceof DesktopError ? error : new DesktopError('capture-failed', (error as Error).message, { cause: error });
    const noDesktop = NO_DESKTOP[problem.code] ?? problem.message;
    return { shares: { kind: handling.terminal ? 'terminal' : 'nothing', noDesktop }, problem };
  }
}

/** Whether this machine has a desktop session a browser can open in. */
export const hasDesktop = () => platform() === 'darwin' || platform() === 'win32' || Boolean(process.env.DISPLAY || process.env.WAYLAND_DISPLAY);

function openInBrowser(url: string): void {
  const [command, args] = platform() === 'darwin' ? ['open', [url]] : platform() === 'win32' ? ['cmd', ['/c', 'start', '', url]] : ['xdg-open', [url]];
  // No browser is no failure: the URL is printed as well.
  execFile(command, args as string[], () => {});
}

/** The terminal, when the agent has one: v, c (when allowed) or d answers as the page does. */
function askOnTerminal(page: ConsentPage, levels: readonly ApprovalMode[], handling: OfferHandling): () => void {
  if (!handling.terminal) return () => {};
  const lines = createInterface({ input: process.stdin });
  const keys = levels.includes('control') ? 'v, c or d' : 'v or d';
  process.stdout.write(`Answer here or on the page: v = allow view${levels.includes('control') ? ', c = allow control' : ''}, d = deny (here: type ${keys}, then Enter)\n`);
  lines.on('line', (line) => {
    const answer = { v: 'view', c: 'control', d: 'deny' }[line.trim().toLowerCase()] as ApprovalMode | 'deny' | undefined;
    if (answer && (answer === 'deny' || levels.includes(answer))) page.answer(answer);
    else process.stdout.write(`Type ${keys}, then Enter (or answer on the page).\n`);
  });
  return () => lines.close();
}

async function consent(decision: OfferDecision, page: ConsentPage, session: AgentSession, handling: OfferHandling): Promise<ConsentAnswer> {
  if (decision.rule.consent === 'notice') {
    if (handling.openBrowser) openInBrowser(page.url);
    return decision.rule.level;
  }
  const answer = page.ask(decision.levels, handling.consentTimeoutMs);
  // The technician counts down from this device's time, not a default (inside the encrypted channel).
  session.asked(Math.ceil(handling.consentTimeoutMs / 1000)).catch(() => {});
  whenStopping(handling, () => page.answer('deny'));
  if (handling.openBrowser) openInBrowser(page.url);
  const stopTerminal = askOnTerminal(page, decision.levels, handling);
  try {
    return await answer;
  } finally {
    stopTerminal();
  }
}

/** Runs `then` once the agent is stopping (at once if it already is). */
function whenStopping({ stopping }: Pick<OfferHandling, 'stopping'>, then: () => void): void {
  if (stopping?.aborted) then();
  else stopping?.addEventListener('abort', then, { once: true });
}

/** Handles one offer to the end of its session (or its refusal). */
export async function handleOffer(agent: DeviceAgent, identity: DeviceState, offer: DeviceOffer, handling: OfferHandling): Promise<void> {
  let decision: OfferDecision;
  try {
    decision = await decideOffer(offer, identity, { ...handling.checks, now: (handling.now ?? Date.now)() }).finally(() => handling.rememberOffers(handling.checks.recentOffers));
  } catch (error) {
    if (!(error instanceof OfferRefusedError)) throw error;
    // Named as the relay named them: this offer's proof did not verify.
    handling.say({ event: 'offer-refused', code: error.code, message: error.message }, `Refused an offer said to be from ${offer.technician.name}: ${error.message}`);
    await agent.answerOffer(offer.sessionId, error.code);
    return;
  }
  const { technician } = decision;
  if (decision.policy.issuedAt > handling.checks.policyNotBefore) {
    handling.checks.policyNotBefore = decision.policy.issuedAt;
    handling.rememberPolicy(decision.policy.issuedAt);
  }
  const relay = identity.relay.httpUrl === undefined ? identity.relay.webSocketUrl : { webSocketUrl: identity.relay.webSocketUrl, httpUrl: identity.relay.httpUrl };
  // Checked before the question, so the person is told what allowing shares.
  const { shares, desktop, problem } = whatToShare(handling);
  if (problem && shares.kind !== 'desktop') handling.say({ event: 'desktop-error', code: problem.code, message: problem.message }, `No desktop to share here: ${shares.noDesktop}.`);
  const session = await acceptHelp({ relay, code: decision.code, name: identity.name });
  // From the start: the technician may leave, or the relay end a denied offer, before anyone waits for it.
  const ended = new Promise<string>((resolve) => session.on('ended', (end) => resolve(end.reason)));
  const { verificationCode } = await new Promise<{ verificationCode: string }>((resolve) => session.on('expert', resolve));
  const page = await openConsentPage(
    {
      technician: { name: technician.name, ...(technician.email === undefined ? {} : { email: technician.email }), organisation: organisationOf(technician) },
      reason: offer.reason,
      deviceName: identity.name,
      verificationCode,
      shares,
    },
    handling.clock,
  );
  try {
    handling.say(
      { event: 'offer', technician: technician.name, email: technician.email, reason: offer.reason, consent: decision.rule.consent, verification: verificationCode, shares: shares.kind, page: page.url },
      `${technician.name}${technician.email ? ` <${technician.email}>` : ''} offers help: ${offer.reason}\n${SHARES_SENTENCE[shares.kind]}\nVerification code ${verificationCode}. ${
        decision.rule.consent === 'ask' ? `Answer within ${Math.round(handling.consentTimeoutMs / 1000)} s on ${page.url}` : `Connecting without asking (policy); notice on ${page.url}`
      }`,
    );
    const answer = await consent(decision, page, session, handling);
    await agent.answerOffer(offer.sessionId, answer === 'timeout' ? 'no-answer' : answer);
    handling.say({ event: 'offer-answered', answer }, answer === 'view' || answer === 'control' ? `Allowed ${answer}.` : answer === 'timeout' ? 'No answer in time: denied.' : 'Denied.');
    if ((answer === 'view' || answer === 'control') && session.phase !== 'ended') {
      const controlAllowed = decision.levels.includes('control');
      const frontend = offeredSessionFrontend(page, handling.sessionFrontend({ technician: technician.name, shares: shares.kind, controlAllowed }), {
        mode: answer,
        stopping: handling.stopping,
        notice: decision.rule.consent === 'notice',
        controlAllowed,
        ...(shares.kind === 'desktop' ? {} : { noDesktop: `This device has no desktop to share (${shares.noDesktop}): ${shares.kind === 'terminal' ? 'a shell in the terminal where its agent runs is shared instead' : 'its agent runs as a service and shares no shell, so only chat is possible'}.` }),
      });
      const size = handling.terminal ? { cols: process.stdout.columns, rows: process.stdout.rows } : { cols: 80, rows: 24 };
      await runAgent(session, frontend, { ...(desktop ? { desktop } : {}), terminal: shares.kind === 'terminal', size });
      frontend.close();
    } else if (session.phase !== 'ended') {
      // A denial is also said inside the encrypted channel, as an invited session's is (the relay ends it either way).
      await session.deny().catch(() => {});
    }
    const reason = await ended;
    handling.say({ event: 'offer-session-ended', reason }, `The help-desk session ended (${reason}).`);
  } finally {
    await page.close();
  }
}

/**
 * The session's interface on the device: the page and the terminal (or log) together. It approves at the
 * person's answer first, tells the technician when there is no desktop, and refuses control the group policy
 * does not allow, from either. A shell started for the technician ends with the session.
 */
function offeredSessionFrontend(
  page: ConsentPage,
  inner: Frontend,
  start: { mode: ApprovalMode; stopping: AbortSignal | undefined; notice: boolean; controlAllowed: boolean; noDesktop?: string },
): Frontend {
  let give: (command: Command) => void = () => {};
  return {
    show(event) {
      page.show(event);
      // The shell was started for the technician, not by the person: it is hung up, not left running for them.
      if (event.event === 'still-running') return give({ cmd: 'hang-up' });
      if (event.event === 'program-exited') return;
      return inner.show(event);
    },
    listen(onCommand) {
      give = (command) => {
        if (command.cmd === 'grant-control' && !start.controlAllowed) {
          return void inner.show({ event: 'error', code: 'view-only-policy', message: "your organisation's policy lets this technician only watch: control cannot be given" });
        }
        onCommand(command);
      };
      page.startSession(start, give);
      inner.listen(give);
      give({ cmd: 'approve', mode: start.mode });
      if (start.noDesktop) give({ cmd: 'chat', text: start.noDesktop });
      whenStopping({ stopping: start.stopping }, () => give({ cmd: 'quit' }));
    },
    close: () => inner.close(),
  };
}
