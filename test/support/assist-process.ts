// Drives `assist … --json` as a child process: events are read from its stdout, commands written
// to its stdin. Every wait is for an event, never for time. No test runner here: benchmarks use it too.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { StringDecoder } from 'node:string_decoder';

export const ASSIST_BIN = fileURLToPath(new URL('../../cli/assist.mjs', import.meta.url));

/** Below the test timeout, so a hang fails with what the process did rather than a bare timeout. */
const HANG_MS = 45_000;

export type JsonEvent = { event: string } & Record<string, unknown>;

export interface AssistProcessOptions {
  /** Added to this process's environment. */
  env?: NodeJS.ProcessEnv;
}

export class AssistProcess {
  readonly child: ChildProcessWithoutNullStreams;
  readonly events: JsonEvent[] = [];
  /** Every stdout line that was not a JSON event (there must be none). */
  readonly strayLines: string[] = [];
  stderr = '';
  /** The terminal bytes of all output events so far, decoded as UTF-8. */
  output = '';
  readonly #decoder = new StringDecoder('utf8');
  readonly #exited: Promise<number | null>;
  #closed = false;
  #waiters: Array<() => void> = [];
  #cursor = 0;

  constructor(args: string[], options: AssistProcessOptions = {}) {
    // The caller's $ASSIST_RELAY and $ASSIST_PASSWORD must not leak into a test.
    this.child = spawn(process.execPath, [ASSIST_BIN, ...args], { env: { ...process.env, ASSIST_RELAY: '', ASSIST_PASSWORD: '', ...options.env } });
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (text: string) => (this.stderr += text));
    createInterface({ input: this.child.stdout, crlfDelay: Infinity }).on('line', (line) => {
      let event: unknown;
      try {
        event = JSON.parse(line);
      } catch {
        event = undefined;
      }
      if (typeof event === 'object' && event !== null && typeof (event as JsonEvent).event === 'string') {
        this.events.push(event as JsonEvent);
        if ((event as JsonEvent).event === 'output') this.output += this.#decoder.write(Buffer.from((event as JsonEvent).data as string, 'base64'));
      } else {
        this.strayLines.push(line);
      }
      this.#wake();
    });
    this.#exited = new Promise((resolve) =>
      this.child.on('close', (code) => {
        this.#closed = true;
        resolve(code);
        this.#wake();
      }),
    );
  }

  #wake(): void {
    for (const waiter of this.#waiters.splice(0)) waiter();
  }

  /**
   * The next event of this name after the last one waited for; fails if the process exits first,
   * or names what it waited for if nothing comes within 45 s (a hang, not a timing assertion).
   */
  async next(name: string, where: (event: JsonEvent) => boolean = () => true): Promise<JsonEvent> {
    const deadline = Date.now() + HANG_MS;
    for (;;) {
      const index = this.events.findIndex((event, at) => at >= this.#cursor && event.event === name && where(event));
      if (index >= 0) {
        this.#cursor = index + 1;
        return this.events[index]!;
      }
      if (this.#closed) throw new Error(`assist exited before "${name}"; ${this.#story()}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no "${name}" from assist after ${HANG_MS / 1000} s; ${this.#story()}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => (clearTimeout(timer), resolve()));
      });
    }
  }

  /** Waits until a non-JSON stdout line (what the human interface prints) matches; fails as `next` does. */
  async line(where: (line: string) => boolean): Promise<string> {
    const deadline = Date.now() + HANG_MS;
    for (;;) {
      const found = this.strayLines.find(where);
      if (found !== undefined) return found;
      if (this.#closed) throw new Error(`assist exited before the line; ${this.#story()}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no such line from assist after ${HANG_MS / 1000} s; ${this.#story()}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => (clearTimeout(timer), resolve()));
      });
    }
  }

  /** What happened so far, for a failure message. */
  #story(): string {
    return `events: ${JSON.stringify(this.events.map((event) => event.event))}; output ends: ${JSON.stringify(this.output.slice(-200))}; stderr: ${this.stderr}`;
  }

  send(command: Record<string, unknown>): void {
    this.child.stdin.write(`${JSON.stringify(command)}\n`);
  }

  /** Resolves once the process has exited, with its exit code (fails as `next` does if it hangs). */
  async exitCode(): Promise<number | null> {
    let timer: NodeJS.Timeout | undefined;
    const hang = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`assist did not exit after ${HANG_MS / 1000} s; ${this.#story()}`)), HANG_MS);
    });
    try {
      return await Promise.race([this.#exited, hang]);
    } finally {
      clearTimeout(timer);
    }
  }

  kill(): void {
    if (!this.#closed) this.child.kill('SIGKILL');
  }
}
