import { restoreAssistSession, SessionRestoreError } from '../../sdk/assist.js';
import type { AgentSession, AssistSnapshot, ExpertSession } from '../../sdk/assist-session.js';
import { decodeBase64, encodeBase64 } from '../../shared/core/base64.js';
import { decodeAssistSnapshot, encodeAssistSnapshot, SnapshotFormatError } from '../../sdk/snapshot.js';
import { h, showScreen } from './dom.js';
import { errorText } from './text.js';
import { endText, readerOf } from '../../shared/core/end-texts.js';

// A reload puts both people back into the same session (issue 13): once approved, the session's
// snapshot (sdk/snapshot.ts) lives in this tab's session storage, written before anything leaves,
// and the page at `/` continues it instead of starting over. Nothing is kept before approval, and the
// invitation's secret never is: the link's fragment is dropped from the address as soon as it is read.
// Session storage belongs to this tab alone and is gone when the tab closes.

const SESSION_KEY = 'assist-relay:session';
const TERMINAL_KEY = 'assist-relay:terminal';
/** What the technician's terminal shows again after a reload: the newest output, at most this much. */
export const TERMINAL_REPLAY_BYTES = 256 * 1024;

/** Keeps an approved session in this tab, and forgets it when it ends. */
export function keepInTab(session: AgentSession | ExpertSession): void {
  session.persistWith((snapshot) => {
    try {
      sessionStorage.setItem(SESSION_KEY, encodeAssistSnapshot(snapshot));
    } catch {
      // Storage disabled or full: the session goes on, but a reload will end it.
      sessionStorage.removeItem(SESSION_KEY);
    }
  });
  session.client.on('ended', forgetTab);
}

function forgetTab(): void {
  sessionStorage.removeItem(SESSION_KEY);
  sessionStorage.removeItem(TERMINAL_KEY);
}

/** The session this tab was in before a reload, if any. */
export function savedSession(): AssistSnapshot | undefined {
  const text = sessionStorage.getItem(SESSION_KEY);
  if (text === null) return undefined;
  try {
    return decodeAssistSnapshot(text);
  } catch (error) {
    if (!(error instanceof SnapshotFormatError)) throw error;
    forgetTab();
    return undefined;
  }
}

/** The page's address, without what it carried for the invitation: a reload then lands on the saved session. */
export function leaveInvitationAddress(): void {
  history.replaceState(null, '', '/');
}

/** Drops the fragment (the invitation's secret) from the address and from this entry of the history. */
export function dropFragment(): void {
  if (location.hash) history.replaceState(null, '', location.pathname + location.search);
}

/** Continues the saved session; shows why when it cannot be. */
export async function resumeFromTab(
  saved: AssistSnapshot,
  continueAs: { person(session: AgentSession): void; technician(session: ExpertSession): void },
): Promise<void> {
  showScreen('Reconnecting', h('p', { role: 'status' }, 'Putting you back into the session…'));
  let session: AgentSession | ExpertSession;
  try {
    session = await restoreAssistSession(saved);
  } catch (error) {
    forgetTab();
    const why = error instanceof SessionRestoreError ? endText(error.end.reason, readerOf(saved.role)) : errorText(error);
    showScreen('The session could not be resumed', h('p', { class: 'end-reason' }, why), h('p', {}, h('a', { href: '/' }, 'Go to the start page')));
    return;
  }
  keepInTab(session);
  if (session.client.session?.role === 'agent') continueAs.person(session as AgentSession);
  else continueAs.technician(session as ExpertSession);
}

/** The technician's terminal output of the last TERMINAL_REPLAY_BYTES, written to session storage when the page goes. */
export class TerminalReplay {
  #chunks: Uint8Array[] = [];
  #bytes = 0;
  size: { cols: number; rows: number } | undefined;

  /** What the tab kept before a reload (empty after a fresh approval). */
  static fromTab(): TerminalReplay {
    const replay = new TerminalReplay();
    try {
      const saved = JSON.parse(sessionStorage.getItem(TERMINAL_KEY) ?? 'null') as { output?: unknown; size?: { cols: number; rows: number } } | null;
      if (typeof saved?.output === 'string') replay.add(decodeBase64(saved.output));
      replay.size = saved?.size;
    } catch {
      // Damaged: nothing to replay.
    }
    return replay;
  }

  get output(): Uint8Array {
    const whole = new Uint8Array(this.#bytes);
    let offset = 0;
    for (const chunk of this.#chunks) {
      whole.set(chunk, offset);
      offset += chunk.length;
    }
    return whole;
  }

  add(bytes: Uint8Array): void {
    this.#chunks.push(bytes.slice());
    this.#bytes += bytes.length;
    while (this.#bytes - (this.#chunks[0]?.length ?? 0) >= TERMINAL_REPLAY_BYTES) this.#bytes -= this.#chunks.shift()!.length;
  }

  /** Written once, when the page is hidden for good (a reload, a navigation): output is too frequent to write each time. */
  keepUntilPageHides(): void {
    const write = () => {
      if (sessionStorage.getItem(SESSION_KEY) === null) return; // the session ended: nothing to replay into
      try {
        sessionStorage.setItem(TERMINAL_KEY, JSON.stringify({ output: encodeBase64(this.output), size: this.size }));
      } catch {
        // Nothing to replay after the reload; the session itself is kept separately.
      }
    };
    window.addEventListener('pagehide', write);
  }
}
