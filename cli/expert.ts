// The technician's side of a session: the ExpertSession's events as SessionEvents, and the user's
// commands (chat, keystrokes, asking for control, leaving) as session calls.

import { clipboardProblem, type AssistEnd, type ExpertSession } from '../sdk/node.js';
import { findSystemClipboard, type SystemClipboard } from './desktop/clipboard.js';
import type { Command, SessionEvent } from './events.js';
import { CommandQueue, errorEvent, outcomeOf, reportConnection, reportIdleLimit, reportTimeLimit, type Frontend, type Outcome } from './frontend.js';

/** What only the person's side decides. */
const AGENT_COMMANDS = new Set<Command['cmd']>(['approve', 'deny', 'grant-control', 'revoke-control', 'refuse-control', 'pause', 'resume', 'resize', 'clipboard', 'stop-desktop', 'hang-up', 'extend']);

export interface HelpOptions {
  /** The relay's web console, where a shared desktop can be seen (this command shows only the terminal). */
  webConsole?: string;
  /** `assist resume`: back in a session a crashed process held. */
  restored?: boolean;
  /** The technician's own clipboard, for send-clipboard without text (tests pass their own); found when first needed. */
  findClipboard?: () => Promise<SystemClipboard>;
}

export async function runExpert(session: ExpertSession, frontend: Frontend, options: HelpOptions = {}): Promise<Outcome> {
  let endedHere = false;
  const show = (event: SessionEvent) => void frontend.show(event);
  const queue = new CommandQueue(show);
  /** Output and everything after it keep their order, and the screen's pace (see show()'s promise). */
  let shown: Promise<unknown> = Promise.resolve();
  const showInOrder = (event: SessionEvent) => {
    shown = shown.then(() => frontend.show(event));
  };

  const ended = new Promise<AssistEnd>((resolve) => session.on('ended', resolve));
  // The person's name arrives in their hello, right after the code: 'connected' waits for both.
  let verification: string | undefined;
  let peer: string | undefined;
  const announce = () => {
    if (verification !== undefined && peer !== undefined) showInOrder({ event: 'connected', peer, verification });
  };
  session.on('verification', ({ code }) => {
    verification = code;
    announce();
  });
  session.on('agent', ({ name }) => {
    peer = name;
    announce();
  });
  session.on('agent-left', () => {
    verification = peer = undefined;
    showInOrder({ event: 'peer-left' });
  });
  session.on('attempt-failed', ({ failedAttempts, maxFailedAttempts }) => showInOrder({ event: 'attempt-failed', failedAttempts, maxFailedAttempts }));
  session.on('approved', ({ mode }) => {
    showInOrder({ event: 'approved', mode });
    if (mode === 'control') showInOrder({ event: 'control', state: 'granted' });
  });
  session.on('denied', () => showInOrder({ event: 'denied' }));
  session.on('asked', ({ seconds }) => showInOrder({ event: 'asked', seconds }));
  session.on('control', ({ state }) => showInOrder({ event: 'control', state }));
  session.on('paused', () => showInOrder({ event: 'paused' }));
  session.on('resumed', () => showInOrder({ event: 'resumed' }));
  session.on('terminal-share', ({ state }) => showInOrder({ event: 'terminal-share', state }));
  session.on('output', (bytes) => showInOrder({ event: 'output', bytes }));
  session.on('resize', ({ cols, rows }) => showInOrder({ event: 'resize', cols, rows }));
  session.on('chat', (text) => showInOrder({ event: 'chat', text }));
  // A desktop share (from the person's assist command) is also a screen share: both are reported,
  // the desktop's with its figures once its video is configured, and again when they change.
  let desktopShared = false;
  session.on('screen-share', (share) => {
    const reason = share.state === 'stopped' && share.reason ? { reason: share.reason } : {};
    showInOrder({ event: 'screen-share', state: share.state, ...reason });
    if (share.state === 'stopped' && desktopShared) {
      desktopShared = false;
      showInOrder({ event: 'desktop-share', state: 'stopped', ...reason });
    }
  });
  session.on('video-config', ({ source, width, height, codec }) => {
    if (source !== 'desktop') return;
    desktopShared = true;
    showInOrder({ event: 'desktop-share', state: 'started', width, height, codec, ...(options.webConsole ? { webConsole: options.webConsole } : {}) });
  });
  session.on('clipboard-allowed', ({ allowed }) => showInOrder({ event: 'clipboard-allowed', allowed }));
  session.on('clipboard', (text) => showInOrder({ event: 'clipboard', direction: 'received', characters: [...text].length, text }));
  session.on('error', (error) => show(errorEvent(error)));
  reportConnection(session.client, showInOrder);
  reportTimeLimit(session.client, showInOrder);
  reportIdleLimit(session, showInOrder);

  let ownClipboard: SystemClipboard | undefined;
  /** The text on the technician's own clipboard; undefined (and said why) when there is none to send. */
  const readOwnClipboard = async (): Promise<string | undefined> => {
    try {
      ownClipboard ??= await (options.findClipboard ?? (() => findSystemClipboard(process.platform, 'then send again; the session goes on')))();
      const text = await ownClipboard.read();
      if (text === undefined) show({ event: 'error', code: 'clipboard-empty', message: 'your clipboard holds no text: copy some text, then send again' });
      return text;
    } catch (error) {
      show(errorEvent(error));
      return undefined;
    }
  };
  /** Puts `text` (else the technician's own clipboard text) on the person's clipboard, if they share it. */
  const sendClipboard = async (text: string | undefined) => {
    const person = peer ?? 'the person';
    if (!session.clipboardAllowed) {
      return show({ event: 'error', code: 'clipboard-not-shared', message: `${person} does not share their clipboard: ask them to share it (Ctrl-] then b in their assist command), then send again` });
    }
    const sending = text ?? (await readOwnClipboard());
    if (sending === undefined) return;
    const problem = clipboardProblem(sending);
    if (problem) return show({ event: 'error', code: 'clipboard-not-sent', message: `your clipboard text was not sent: ${problem}` });
    if (!(await session.sendClipboard(sending))) {
      const why = session.paused ? 'the session is paused; send it again once it resumes' : `${person} no longer shares their clipboard`;
      return show({ event: 'error', code: 'clipboard-not-sent', message: `your clipboard text was not sent: ${why}` });
    }
    show({ event: 'clipboard', direction: 'sent', characters: [...sending].length });
  };

  const handle = (command: Command) => {
    if (AGENT_COMMANDS.has(command.cmd)) {
      return show({ event: 'error', code: 'wrong-side', message: `${command.cmd} is for the person who asked for help` });
    }
    switch (command.cmd) {
      case 'input':
        return queue.run(async () => {
          if (!(await session.sendInput(command.bytes)) && command.bytes.length > 0) {
            show({ event: 'error', code: 'no-control', message: 'your keystrokes were not sent: you do not have control (ask with request-control), or the session is paused' });
          }
        });
      case 'request-control':
        return queue.run(() => session.requestControl());
      case 'still-here':
        return queue.run(() => session.stillHere());
      case 'chat':
        return queue.run(() => session.chat(command.text));
      case 'send-clipboard':
        return queue.run(() => sendClipboard(command.text));
      case 'end':
      case 'quit':
        endedHere = true;
        return queue.run(() => (session.phase === 'connecting' && session.client.isCreator ? session.revoke() : session.leave()));
    }
  };

  frontend.listen(handle);
  if (options.restored) {
    showInOrder({ event: 'session-restored', peer: session.agentName ?? '', mode: session.mode ?? 'view', control: session.hasControl, paused: session.paused });
  }
  const finalEnd = await ended;
  await shown;
  await frontend.show({ event: 'ended', reason: finalEnd.reason, ...(finalEnd.offerAnswer && { offerAnswer: finalEnd.offerAnswer }) });
  return outcomeOf(finalEnd, endedHere);
}
