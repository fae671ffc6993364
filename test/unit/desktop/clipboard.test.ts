// The person's side of clipboard sharing with a stand-in system clipboard, on the real SDK over the
// in-process relay: what was copied before is not sent, what is copied afterwards is, what the technician sends
// is written and not sent back; text that cannot travel is said once; without a tool, a sentence.
import { describe, expect, it } from 'vitest';
import { ClipboardSync, CLIPBOARD_POLL_MS, findSystemClipboard, type ClipboardReport, type SystemClipboard } from '../../../cli/desktop/clipboard.js';
import { DesktopError } from '../../../cli/desktop/errors.js';
import { MAX_CLIPBOARD_BYTES } from '../../../sdk/assist-messages.js';
import { until, useCleanups } from '../../support/harness.js';
import { decidingPair } from '../sdk/support/assist-pair.js';
import { ManualClock, settle } from '../sdk/support/manual-clock.js';

const defer = useCleanups();

class FakeClipboard implements SystemClipboard {
  readonly tool = 'fake';
  text: string | undefined = 'copied before the session';
  readonly written: string[] = [];
  async read() {
    return this.text;
  }
  async write(text: string) {
    this.written.push(text);
    this.text = text;
  }
}

async function syncing() {
  const pair = await decidingPair(defer);
  await pair.agent.approve('view');
  await pair.agent.allowClipboard(true);
  await until(() => pair.expert.clipboardAllowed, 'the permission');
  const clipboard = new FakeClipboard();
  const reports: ClipboardReport[] = [];
  const received: string[] = [];
  pair.expert.on('clipboard', (text) => received.push(text));
  const clock = new ManualClock();
  const sync = new ClipboardSync(pair.agent, clipboard, (report) => reports.push(report), clock);
  defer(() => sync.close());
  await sync.start();
  /** One poll of the clipboard, and what it sent reaching the technician's side. */
  const poll = async () => {
    await clock.advance(CLIPBOARD_POLL_MS);
    await settle();
  };
  return { ...pair, clipboard, reports, received, sync, poll };
}

describe('clipboard sharing on the person’s side', () => {
  it('sends what is copied after it was allowed, never what was there before; writes the technician’s text without echoing it', async () => {
    const { clipboard, reports, received, expert, poll } = await syncing();
    await poll();
    expect(reports).toEqual([]);
    clipboard.text = 'copied now';
    await poll();
    await until(() => received.length === 1, 'the copied text');
    expect(received).toEqual(['copied now']);
    expect(reports).toEqual([{ event: 'clipboard', direction: 'sent', characters: 10 }]);

    await expert.sendClipboard('from the technician');
    await until(() => clipboard.written.length === 1, 'the write');
    expect(clipboard.written).toEqual(['from the technician']);
    await poll();
    await poll();
    expect(reports.filter((report) => report.event === 'clipboard' && report.direction === 'sent')).toHaveLength(1); // not sent back
    expect(received).toEqual(['copied now']);
    expect(reports.at(-1)).toEqual({ event: 'clipboard', direction: 'received', characters: 19 });
  });

  it('says once that text over 64 KiB was not sent', async () => {
    const { clipboard, reports, received, poll } = await syncing();
    clipboard.text = 'x'.repeat(MAX_CLIPBOARD_BYTES + 1);
    await poll();
    clipboard.text = 'y'.repeat(MAX_CLIPBOARD_BYTES + 1);
    await poll();
    expect(reports).toEqual([{ event: 'desktop-error', code: 'clipboard-not-sent', message: 'what you copied was not sent to your technician: clipboard text has at most 64 KiB, not 65 KiB' }]);
    expect(received).toEqual([]);
  });

  it('without a clipboard tool, says which to install', async () => {
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      const refusal = await findSystemClipboard('linux').catch((error: unknown) => error);
      expect(refusal).toBeInstanceOf(DesktopError);
      expect((refusal as DesktopError).message).toBe(
        'clipboard sharing needs a clipboard tool and none was found: install xclip or xsel (on Debian or Ubuntu: sudo apt-get install xclip), then allow it again; the session goes on without it',
      );
    } finally {
      process.env.PATH = path;
    }
  });
});
