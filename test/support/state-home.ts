// Every test file's `assist` processes keep their session state (cli/state.ts) in a folder of the
// file's own, removed afterwards: never in the user's ~/.local/state.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

const stateHome = mkdtempSync(join(tmpdir(), 'assist-state-'));
process.env.XDG_STATE_HOME = stateHome;
afterAll(() => rmSync(stateHome, { recursive: true, force: true }));
