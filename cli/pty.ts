// The terminal the person shares: a shell (or one command) in a pseudo-terminal, without native
// modules. On Linux util-linux's `script` (Debian package bsdutils) allocates the pty; a small sh
// wrapper inside it reports the program's pid and the pty's device on an extra pipe (fd 3) and sets
// the first size. Every later resize is `stty -F <device> rows R cols C` from outside, which makes
// the kernel send SIGWINCH to the program in the foreground, as a terminal emulator would. Without
// util-linux's script the command runs on plain pipes: programs see no terminal (no line editing,
// no echo), and there are no resizes.

import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';

export interface TerminalSize {
  cols: number;
  rows: number;
}

export interface SharedTerminalOptions {
  /** A command line for /bin/sh; the user's shell when absent. */
  command?: string;
  size: TerminalSize;
}

export interface SharedTerminal {
  /** Everything the program writes. Read it with backpressure: the program blocks while nobody reads. */
  readonly output: Readable;
  /** False when the terminal is plain pipes (no pty). */
  readonly isPty: boolean;
  write(bytes: Uint8Array): void;
  /** Resolves once the terminal has the new size (at once where there is none to resize). */
  resize(size: TerminalSize): Promise<void>;
  /** The program's exit code (null when it was killed). */
  readonly exited: Promise<number | null>;
  /** Ends the program, as a hangup would. */
  stop(): void;
}

/** Runs inside the pty: report its pid and the device, close the report pipe, set the size, become the program. */
const WRAPPER = [
  'echo "$$ $(tty)" >&3',
  'exec 3>&-',
  'stty rows "$ASSIST_ROWS" cols "$ASSIST_COLS" 2>/dev/null',
  'export SHELL="$ASSIST_USER_SHELL"',
  'command_line="$ASSIST_COMMAND"',
  'unset ASSIST_ROWS ASSIST_COLS ASSIST_USER_SHELL ASSIST_COMMAND',
  'if [ -n "$command_line" ]; then exec /bin/sh -c "$command_line"; else exec "$SHELL" -i; fi',
].join('\n');

export function startSharedTerminal(options: SharedTerminalOptions): SharedTerminal {
  const userShell = process.env.SHELL || '/bin/sh';
  if (!hasUtilLinuxScript()) return startOnPipes(options.command ?? 'exec "$SHELL" -i', userShell);
  const child = spawn('script', ['-q', '-f', '-e', '-c', WRAPPER, '/dev/null'], {
    stdio: ['pipe', 'pipe', 'inherit', 'pipe'],
    env: {
      ...process.env,
      // `script` runs its -c argument with $SHELL: the wrapper is sh.
      SHELL: '/bin/sh',
      ASSIST_USER_SHELL: userShell,
      ASSIST_COMMAND: options.command ?? '',
      ASSIST_ROWS: String(options.size.rows),
      ASSIST_COLS: String(options.size.cols),
      TERM: process.env.TERM || 'xterm-256color',
    },
  });
  let device: string | undefined;
  /** The program's pid: it leads the pty's session, so its process group is what a hangup reaches. */
  let pid: number | undefined;
  /** A resize asked for before the device was known, and who waits for it. */
  let pending: { size: TerminalSize; done: () => void } | undefined;
  const report = child.stdio[3] as Readable;
  let reported = '';
  report.setEncoding('utf8');
  // One line; `script` holds its own copy of the pipe, so its end would come only with the exit.
  report.on('data', (text: string) => {
    reported += text;
    const match = /^(\d+) (\/dev\/\S+)\n/.exec(reported);
    if (!match || device) return;
    pid = Number(match[1]);
    device = match[2];
    if (pending) void resizeDevice(pending.size).then(pending.done);
  });
  const resizeDevice = (size: TerminalSize) =>
    new Promise<void>((resolve) => {
      // A terminal that is gone cannot be resized; nothing to report.
      execFile('stty', ['-F', device!, 'rows', String(size.rows), 'cols', String(size.cols)], () => resolve());
    });
  const exited = exitOf(child);
  // A terminal that never reported its device has no size to wait for.
  void exited.finally(() => pending?.done()).catch(() => {});
  return {
    output: child.stdout!,
    isPty: true,
    write: (bytes) => writeInput(child, bytes),
    resize(size) {
      if (device) return resizeDevice(size);
      pending?.done();
      return new Promise((done) => (pending = { size, done }));
    },
    exited,
    stop() {
      // As when a terminal window closes: SIGHUP to the program's process group (a shell passes it
      // on to its jobs). `script` itself, on SIGTERM, waits two seconds before it kills for sure.
      signalGroup(pid, 'SIGHUP') || child.kill('SIGTERM');
      // A program that ignores the hangup is not left running in a terminal nobody sees.
      const kill = setTimeout(() => signalGroup(pid, 'SIGKILL') || child.kill('SIGKILL'), STOP_GRACE_MS);
      kill.unref();
      void exited.finally(() => clearTimeout(kill)).catch(() => {});
    },
  };
}

/** util-linux's `script` (Debian: bsdutils); BSD and macOS have another with other options. */
function hasUtilLinuxScript(): boolean {
  if (process.platform !== 'linux') return false;
  const probe = spawnSync('script', ['--version'], { encoding: 'utf8' });
  return !probe.error && probe.stdout.includes('util-linux');
}

/** How long a stopped program has to exit before it is killed. */
const STOP_GRACE_MS = 3000;

/** Signals the process group led by `pid`; false when there is none (any more). */
function signalGroup(pid: number | undefined, signal: NodeJS.Signals): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}

function startOnPipes(commandLine: string, userShell: string): SharedTerminal {
  // Errors are part of what the person shares, as they would be on a terminal.
  const child = spawn('/bin/sh', ['-c', 'exec 2>&1; eval "$ASSIST_COMMAND"'], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, SHELL: userShell, ASSIST_COMMAND: commandLine },
  });
  return {
    output: child.stdout!,
    isPty: false,
    write: (bytes) => writeInput(child, bytes),
    resize: async () => {},
    exited: exitOf(child),
    stop: () => child.kill('SIGTERM'),
  };
}

function writeInput(child: ChildProcess, bytes: Uint8Array): void {
  if (child.stdin && !child.stdin.destroyed) child.stdin.write(bytes);
}

function exitOf(child: ChildProcess): Promise<number | null> {
  // A write to a program that already exited fails with EPIPE; the exit is what matters.
  child.stdin?.on('error', () => {});
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve(code));
  });
}
