// Scripting mode (--json): one JSON object per line on stdout, each with "event"; commands as
// JSON lines on stdin, each with "cmd". Nothing else is written to stdout; people's messages and
// diagnostics go to stderr. Closing stdin ends the session, as {"cmd":"end"} would, and (person)
// hangs up the shared program: nobody is left to type into it.

import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { CommandError, eventToJson, parseCommand, type Command, type SessionEvent } from './events.js';
import type { Frontend } from './frontend.js';

export class JsonLinesFrontend implements Frontend {
  #stopListening: (() => void) | undefined;

  constructor(
    private readonly input: Readable,
    private readonly output: Writable,
  ) {}

  /** Resolves once stdout has taken the line (a slow reader slows the terminal being shared, not memory). */
  show(event: SessionEvent): Promise<void> | void {
    if (this.output.write(`${eventToJson(event)}\n`)) return;
    return new Promise((resolve) => this.output.once('drain', resolve));
  }

  listen(onCommand: (command: Command) => void): void {
    const lines = createInterface({ input: this.input, crlfDelay: Infinity });
    let ended = false;
    lines.on('line', (line) => {
      if (line.trim() === '') return;
      try {
        onCommand(parseCommand(line));
      } catch (error) {
        if (!(error instanceof CommandError)) throw error;
        void this.show({ event: 'error', code: error.code, message: error.message });
      }
    });
    lines.on('close', () => {
      if (!ended) onCommand({ cmd: 'quit' });
    });
    this.#stopListening = () => {
      ended = true;
      lines.close();
    };
  }

  close(): void {
    this.#stopListening?.();
  }
}

