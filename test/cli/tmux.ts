// A private tmux server for driving `assist` through a real terminal: start a program in a pane,
// type keys, read the screen, wait until it shows something.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export class Tmux {
  /** Its own socket, so the test never touches anybody's tmux. */
  readonly socket = `assist-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

  async #tmux(...args: string[]): Promise<string> {
    const { stdout } = await run('tmux', ['-L', this.socket, '-f', '/dev/null', ...args]);
    return stdout;
  }

  /** Runs `argv` in a new detached session of the given size; its exit status is written below it. */
  async start(name: string, argv: string[], size: { cols: number; rows: number }, env: Record<string, string> = {}): Promise<void> {
    const environment = Object.entries(env).flatMap(([key, value]) => ['-e', `${key}=${value}`]);
    // A shell stays in the pane to report the status (tmux's own remain-on-exit sometimes misses the exit).
    const reporting = ['sh', '-c', '"$@"; echo "[exited with $?]"; exec sleep 3600', 'sh', ...argv];
    await this.#tmux('new-session', '-d', '-s', name, '-x', String(size.cols), '-y', String(size.rows), ...environment, '--', ...reporting);
  }

  /** Keys in tmux's notation: literal text (with -l) or names such as Enter, C-].  */
  async type(name: string, text: string): Promise<void> {
    await this.#tmux('send-keys', '-t', name, '-l', text);
  }

  async press(name: string, ...keys: string[]): Promise<void> {
    await this.#tmux('send-keys', '-t', name, ...keys);
  }

  async resize(name: string, size: { cols: number; rows: number }): Promise<void> {
    await this.#tmux('resize-window', '-t', name, '-x', String(size.cols), '-y', String(size.rows));
  }

  /** The screen and its scrollback, wrapped lines joined. */
  screen(name: string): Promise<string> {
    return this.#tmux('capture-pane', '-p', '-J', '-S', '-', '-t', name);
  }

  /**
   * Waits until the screen matches; returns the match. Gives up when the program exits first, or
   * after `patienceMs` (not a timing check: it only makes a hang fail with the screen to read).
   */
  async waitFor(name: string, pattern: RegExp, patienceMs = 20_000): Promise<RegExpMatchArray> {
    const giveUpAt = Date.now() + patienceMs;
    for (;;) {
      const screen = await this.screen(name);
      const match = screen.match(pattern);
      if (match) return match;
      if ((await this.exitStatus(name)) !== undefined) throw new Error(`${name} exited before showing ${pattern}:\n${screen}`);
      if (Date.now() > giveUpAt) throw new Error(`${name} did not show ${pattern}:\n${screen}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** The program's exit status once it has exited. */
  async exitStatus(name: string): Promise<number | undefined> {
    const reported = /\[exited with (\d+)\]/.exec(await this.screen(name));
    return reported ? Number(reported[1]) : undefined;
  }

  async waitForExit(name: string, patienceMs = 20_000): Promise<number> {
    const giveUpAt = Date.now() + patienceMs;
    for (;;) {
      const status = await this.exitStatus(name);
      if (status !== undefined) return status;
      if (Date.now() > giveUpAt) throw new Error(`${name} did not exit:\n${await this.screen(name)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Waits for a program that says its piece and exits with `status`; returns the screen's match of `pattern` (else an error showing the screen). */
  async finished(name: string, status: number, pattern: RegExp): Promise<RegExpMatchArray> {
    const exited = await this.waitForExit(name);
    const screen = await this.screen(name);
    const match = screen.match(pattern);
    if (exited !== status || !match) throw new Error(`${name} exited with ${exited} (expected ${status}), showing ${match ? '' : `no match for ${pattern}`}:\n${screen}`);
    return match;
  }

  async close(): Promise<void> {
    await this.#tmux('kill-server').catch(() => {});
  }
}
