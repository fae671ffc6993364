// The person's side of a session: turns the AgentSession's events into SessionEvents, the user's
// commands into session calls, and runs the shared terminal (and with --desktop the desktop share)
// once the expert is approved. The SDK enforces consent (nothing flows before approval or while
// paused; input only with control); this file only wires the terminal and the desktop to it.
//
// The shared program belongs to the person: however the session ends (the technician leaving, the
// person ending it, a time limit, a lost connection), the program keeps running in the person's
// terminal, no longer shared ('still-running'), until the person exits it or asks to hang it up
// ('hang-up'); then 'program-exited'. Only the program's own exit ends the session with it.

import type { AgentSession, AssistEnd } from '../sdk/node.js';
import type { Command, SessionEvent } from './events.js';
import { CommandQueue, errorEvent, outcomeOf, reportConnection, reportIdleLimit, reportTimeLimit, type Frontend, type Outcome } from './frontend.js';
import type { DesktopShare, PreparedDesktop } from './desktop/desktop-share.js';
import { ClipboardSync, findSystemClipboard, type SystemClipboard } from './desktop/clipboard.js';
import { startSharedTerminal, type SharedTerminal, type TerminalSize } from './pty.js';

export interface ShareOptions {
  /** A command line instead of the user's shell; with a desktop, the only way a terminal is shared too. */
  command?: string;
  size: TerminalSize;
  /** --desktop: shared too, from approval until the end. */
  desktop?: PreparedDesktop;
  /** --clipboard: clipboard text follows both ways from approval (the person can stop it). */
  clipboard?: boolean;
  /** The system clipboard (tests pass their own); found when first allowed. */
  findClipboard?: () => Promise<SystemClipboard>;
  /** Whether a terminal is shared; default: unless a desktop is, without --command (`assist agent` without a terminal shares none). */
  terminal?: boolean;
  /** `assist resume`: the session is already approved; its program died with the crashed process, a new one starts. */
  restored?: boolean;
}

export async function runAgent(session: AgentSession, frontend: Frontend, share: ShareOptions): Promise<Outcome> {
  let terminal: SharedTerminal | undefined;
  let desktop: DesktopShare | undefined;
  let size = share.size;
  let endedHere = false;
  /** The shared program runs (started and not yet exited). */
  let programRunning = false;
  const show = (event: SessionEvent) => void frontend.show(event);
  const queue = new CommandQueue(show);
  const end = (finish: () => Promise<AssistEnd>) => {
    endedHere = true;
    queue.run(finish);
  };

  const ended = new Promise<AssistEnd>((resolve) => session.on('ended', resolve));
  session.on('expert', ({ name, verificationCode }) => show({ event: 'connected', peer: name, verification: verificationCode }));
  session.on('expert-left', () => show({ event: 'peer-left' }));
  session.on('attempt-failed', ({ failedAttempts, maxFailedAttempts }) => show({ event: 'attempt-failed', failedAttempts, maxFailedAttempts }));
  session.on('control-requested', () => show({ event: 'control-requested' }));
  session.on('chat', (text) => show({ event: 'chat', text }));
  session.on('input', (bytes) => terminal?.write(bytes));
  session.on('error', (error) => show(errorEvent(error)));
  reportConnection(session.client, show);
  reportTimeLimit(session.client, show);
  reportIdleLimit(session, show);
  session.on('clipboard-refused', ({ why }) => show({ event: 'clipboard-refused', count: session.refusedClipboardTexts, why }));

  let clipboard: ClipboardSync | undefined;
  /** Lets clipboard text follow both ways, or stops it; without a clipboard tool, says what to install. */
  const allowClipboard = async (allowed: boolean) => {
    if (session.phase !== 'active') return;
    if (allowed && !clipboard) {
      let system: SystemClipboard;
      try {
        system = await (share.findClipboard ?? findSystemClipboard)();
      } catch (error) {
        return show(errorEvent(error));
      }
      clipboard = new ClipboardSync(session, system, show);
    }
    await session.allowClipboard(allowed);
    if (allowed) await clipboard?.start();
    else clipboard?.stop();
    show({ event: 'clipboard-allowed', allowed });
  };
  /** --desktop alone shares the desktop only; a terminal comes with it only for --command. */
  const sharesTerminal = share.terminal ?? (!share.desktop || share.command !== undefined);

  const startTerminal = () => {
    // The expert may have left while the approval was on its way.
    if (session.phase === 'ended' || !sharesTerminal) return;
    // At once, so nothing the person types now is lost. The expert learns a terminal is shared before
    // its first output: the session queues messages in the order they are given.
    terminal = startSharedTerminal({ command: share.command, size });
    programRunning = true;
    session.startTerminalShare().catch((error: unknown) => show(errorEvent(error)));
    if (!terminal.isPty) {
      show({ event: 'error', code: 'no-pty', message: "no pseudo-terminal here (it needs util-linux's script): the program runs on plain pipes" });
    }
    void pump(terminal);
    const exitedNow = () => {
      programRunning = false;
      if (session.phase !== 'ended') end(() => session.end());
    };
    terminal.exited.then(exitedNow, (error: unknown) => {
      show(errorEvent(error));
      exitedNow();
    });
  };

  /** Terminal output to the screen (or script) and the expert; the next chunk is read only when both took this one. */
  const pump = async (source: SharedTerminal) => {
    try {
      for await (const chunk of source.output) {
        const bytes = new Uint8Array(chunk as Buffer);
        await Promise.all([frontend.show({ event: 'output', bytes }), session.sendOutput(bytes)]);
      }
    } catch (error) {
      if (session.phase !== 'ended') show(errorEvent(error));
    }
  };

  /** Withdraws an invitation nobody got through yet, or ends the session for both. */
  const endSession = () => (session.phase === 'waiting' && session.client.isCreator ? session.revoke() : session.end());

  const handle = (command: Command) => {
    switch (command.cmd) {
      case 'input':
        // The person's own keystrokes go straight in, whoever has control; typing is activity, even while paused.
        session.stillHere();
        return terminal?.write(command.bytes);
      case 'still-here':
        return session.stillHere();
      case 'resize':
        // One after another, so the last size wins; the expert learns each once the terminal has it.
        return queue.run(async () => {
          size = { cols: command.cols, rows: command.rows };
          await terminal?.resize(size);
          await session.sendResize(command.cols, command.rows);
        });
      case 'approve':
        return queue.run(async () => {
          await session.approve(command.mode);
          show({ event: 'approved', mode: command.mode });
          if (command.mode === 'control') show({ event: 'control', state: 'granted' });
          startTerminal();
          if (share.desktop && session.phase === 'active') desktop = await share.desktop.start(session, show);
          if (share.clipboard) await allowClipboard(true);
        });
      case 'deny':
        show({ event: 'denied' });
        return end(() => session.deny());
      case 'grant-control':
        return queue.run(async () => {
          await session.grantControl();
          show({ event: 'control', state: 'granted' });
        });
      case 'revoke-control':
        return queue.run(async () => {
          await session.revokeControl();
          // The SDK already drops further input; keys and buttons the technician holds are let go.
          desktop?.releaseInput();
          show({ event: 'control', state: 'revoked' });
        });
      case 'refuse-control':
        return queue.run(async () => {
          await session.refuseControl();
          // Said to the person too: their "no" went out, and the technician can still watch.
          show({ event: 'control', state: 'refused' });
        });
      case 'pause':
        return queue.run(async () => {
          await session.pause();
          desktop?.releaseInput();
          show({ event: 'paused' });
        });
      case 'resume':
        return queue.run(async () => {
          await session.resume();
          show({ event: 'resumed' });
        });
      case 'chat':
        return queue.run(() => session.chat(command.text));
      case 'extend':
        return queue.run(async () => {
          const before = session.client.activation?.expiresAt;
          const { expiresAt, maxExpiresAt } = await session.extend(command.minutes === undefined ? undefined : command.minutes * 60);
          // A new limit is reported as time-limit; at the cap nothing moved, and that is said.
          if (expiresAt === before) {
            show({ event: 'error', code: 'at-time-limit', message: `the session cannot be extended any further: the relay allows it until ${new Date(maxExpiresAt * 1000).toISOString()}` });
          }
        });
      case 'clipboard':
        return queue.run(() => allowClipboard(command.allowed));
      case 'stop-desktop':
        return queue.run(async () => {
          if (!desktop) return show({ event: 'error', code: 'no-desktop', message: 'no desktop is shared in this session (share one with --desktop)' });
          await desktop.stop('by-person');
        });
      case 'end':
        // After the end only the program is left, and ending it is hang-up's to ask.
        if (session.phase === 'ended') return show({ event: 'error', code: 'session-over', message: 'the session is over; your program still runs here: exit it, or send hang-up to end it' });
        return end(endSession);
      case 'hang-up':
        // The person's own request to end their program (as closing a terminal window would); during
        // the session its exit then ends the session too. Without a program it is a plain end.
        if (programRunning) return terminal!.stop();
        if (session.phase !== 'ended') end(endSession);
        return;
      case 'quit':
        if (session.phase !== 'ended') end(endSession);
        if (programRunning) terminal!.stop();
        return;
      case 'request-control':
        return show({ event: 'error', code: 'wrong-side', message: 'request-control is for the technician; you grant control with grant-control' });
      case 'send-clipboard':
        return show({ event: 'error', code: 'wrong-side', message: 'send-clipboard is for the technician; what you copy reaches them by itself while you share the clipboard (clipboard, allowed: true)' });
    }
  };

  await session.sendResize(size.cols, size.rows);
  frontend.listen(handle);
  if (share.restored) {
    show({ event: 'session-restored', peer: session.expert?.name ?? '', mode: session.mode ?? 'view', control: session.controlGranted, paused: session.paused });
    startTerminal();
  }
  const finalEnd = await ended;
  clipboard?.close();
  await desktop?.stop();
  await frontend.show({ event: 'ended', reason: finalEnd.reason });
  if (programRunning && terminal) {
    // Nothing is shared any more; the person goes on with their program (its output is still shown here).
    await frontend.show({ event: 'still-running' });
    const code = await terminal.exited.catch(() => null);
    await frontend.show({ event: 'program-exited', code });
  }
  return outcomeOf(finalEnd, endedHere);
}
