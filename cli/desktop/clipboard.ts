// Clipboard text both ways, only while the person allows it (`--clipboard`, or Ctrl-] then b during
// the session): what the person copies is sent to the technician; what the technician sends is put on the
// person's clipboard. The technician's `assist join` reads its own clipboard with the same tools when
// asked to send it (expert.ts). The clipboard is read and written with the system's own tool: xclip or xsel on
// Linux (X11), pbpaste/pbcopy on macOS, PowerShell's Get-/Set-Clipboard on Windows (untested here).
// What was on the clipboard before it was allowed is never sent: only what is copied afterwards.

import { spawn } from 'node:child_process';
import { MAX_CLIPBOARD_BYTES, clipboardProblem, systemClock, type AgentSession, type CancelTimer, type Clock } from '../../sdk/node.js';
import { DesktopError } from './errors.js';

/** How often the person's clipboard is read while it is shared: a copy reaches the technician within this. */
export const CLIPBOARD_POLL_MS = 1000;
/** A tool that does not answer within this long is taken as failing. */
const TOOL_TIMEOUT_MS = 3000;

/** The system clipboard, as text. */
export interface SystemClipboard {
  /** The tool's name, for sentences. */
  readonly tool: string;
  /** The text on the clipboard now; undefined when it holds none (empty, an image). */
  read(): Promise<string | undefined>;
  write(text: string): Promise<void>;
}

interface ToolCommands {
  tool: string;
  read: [string, ...string[]];
  write: [string, ...string[]];
}

const candidates: Record<string, ToolCommands[]> = {
  linux: [
    { tool: 'xclip', read: ['xclip', '-selection', 'clipboard', '-out'], write: ['xclip', '-selection', 'clipboard', '-in'] },
    { tool: 'xsel', read: ['xsel', '--clipboard', '--output'], write: ['xsel', '--clipboard', '--input'] },
  ],
  darwin: [{ tool: 'pbcopy', read: ['pbpaste'], write: ['pbcopy'] }],
  win32: [
    {
      tool: 'PowerShell',
      // Written without the newline PowerShell puts after a pipeline's output, so a text reads back as it was written.
      read: ['powershell.exe', '-NoProfile', '-Command', '[Console]::OutputEncoding = [Text.Encoding]::UTF8; [Console]::Out.Write((Get-Clipboard -Raw))'],
      write: ['powershell.exe', '-NoProfile', '-Command', '[Console]::InputEncoding = [Text.Encoding]::UTF8; Set-Clipboard -Value ([Console]::In.ReadToEnd())'],
    },
  ],
};

/** Runs a tool; resolves with its output and exit code (127 when it is not installed). */
function run(command: readonly string[], input?: string): Promise<{ code: number; output: Buffer }> {
  return new Promise((resolve) => {
    // xclip -in stays in the background to serve the selection: it must not hold our pipes open.
    const child = spawn(command[0]!, command.slice(1), { stdio: [input === undefined ? 'ignore' : 'pipe', input === undefined ? 'pipe' : 'ignore', 'ignore'] });
    const chunks: Buffer[] = [];
    let size = 0;
    child.stdout?.on('data', (chunk: Buffer) => {
      size += chunk.length;
      // More than a message carries is not sent: read no further than one byte past it.
      if (size <= MAX_CLIPBOARD_BYTES + 1) chunks.push(chunk);
    });
    const timer = setTimeout(() => child.kill(), TOOL_TIMEOUT_MS);
    child.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({ code: error.code === 'ENOENT' ? 127 : 1, output: Buffer.alloc(0) });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      // Output may still be in the pipe when the process has exited.
      if (child.stdout && !child.stdout.readableEnded) child.stdout.once('end', () => resolve({ code: code ?? 1, output: Buffer.concat(chunks) }));
      else resolve({ code: code ?? 1, output: Buffer.concat(chunks) });
    });
    if (input !== undefined) child.stdin!.end(input);
  });
}

function clipboardOf(commands: ToolCommands): SystemClipboard {
  return {
    tool: commands.tool,
    async read() {
      const { code, output } = await run(commands.read);
      // xclip exits 1 when the clipboard holds no text.
      if (code !== 0 || output.length === 0) return undefined;
      return output.toString('utf8');
    },
    async write(text) {
      const { code } = await run(commands.write, text);
      if (code !== 0) throw new Error(`${commands.tool} exited with ${code}`);
    },
  };
}

/** The first clipboard tool installed here, or a DesktopError saying what to install and, `then`, what to do next. */
export async function findSystemClipboard(platform: NodeJS.Platform = process.platform, then = 'then allow it again; the session goes on without it'): Promise<SystemClipboard> {
  for (const commands of candidates[platform] ?? []) {
    // Asking for the clipboard is the check: a missing tool gives 127, an empty clipboard only 1.
    if ((await run(commands.read)).code !== 127) return clipboardOf(commands);
  }
  const install =
    platform === 'linux'
      ? 'install xclip or xsel (on Debian or Ubuntu: sudo apt-get install xclip)'
      : platform === 'win32'
        ? 'PowerShell must be on the PATH'
        : platform === 'darwin'
          ? 'pbcopy and pbpaste come with macOS: check the PATH'
          : `there is no clipboard tool for ${platform}`;
  throw new DesktopError('no-clipboard-tool', `clipboard sharing needs a clipboard tool and none was found: ${install}, ${then}`);
}

export type ClipboardReport =
  | { event: 'clipboard'; direction: 'sent' | 'received'; characters: number }
  | { event: 'desktop-error'; code: string; message: string };

/**
 * Moves clipboard text between the system's clipboard and the session while the person allows it:
 * reads the clipboard every CLIPBOARD_POLL_MS and sends what changed; writes what the technician sends.
 */
export class ClipboardSync {
  #last: string | undefined;
  #cancelPoll: CancelTimer | undefined;
  #running = false;
  #tooLargeSaid = false;
  readonly #unsubscribe: () => void;

  constructor(
    private readonly session: Pick<AgentSession, 'sendClipboard' | 'on'>,
    private readonly clipboard: SystemClipboard,
    private readonly report: (event: ClipboardReport) => void,
    private readonly clock: Pick<Clock, 'schedule'> = systemClock,
  ) {
    this.#unsubscribe = session.on('clipboard', (text) => void this.#received(text));
  }

  /** Starts sending what the person copies from now on (what is on the clipboard now is not sent). */
  async start(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    this.#last = await this.clipboard.read();
    this.#schedule();
  }

  stop(): void {
    this.#running = false;
    this.#cancelPoll?.();
  }

  close(): void {
    this.stop();
    this.#unsubscribe();
  }

  #schedule(): void {
    if (this.#running) this.#cancelPoll = this.clock.schedule(CLIPBOARD_POLL_MS, () => void this.#poll());
  }

  async #poll(): Promise<void> {
    try {
      const text = await this.clipboard.read();
      if (!this.#running || text === undefined || text === this.#last) return;
      this.#last = text;
      const problem = clipboardProblem(text);
      if (problem) {
        if (this.#tooLargeSaid) return;
        this.#tooLargeSaid = true;
        return this.report({ event: 'desktop-error', code: 'clipboard-not-sent', message: `what you copied was not sent to your technician: ${problem}` });
      }
      if (await this.session.sendClipboard(text)) this.report({ event: 'clipboard', direction: 'sent', characters: [...text].length });
    } finally {
      this.#schedule();
    }
  }

  async #received(text: string): Promise<void> {
    // Remembered first, so the next read does not send it straight back.
    this.#last = text;
    try {
      await this.clipboard.write(text);
      this.report({ event: 'clipboard', direction: 'received', characters: [...text].length });
    } catch (error) {
      this.report({ event: 'desktop-error', code: 'clipboard-failed', message: `your technician's clipboard text could not be put on your clipboard (${(error as Error).message})` });
    }
  }
}
