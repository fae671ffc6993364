// The human interface's keys, without a relay: what each key sequence turns into, however the
// bytes are split across reads.
import { PassThrough } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import type { Command } from '../../cli/events.js';
import { HumanFrontend } from '../../cli/human.js';

function frontend(role: 'agent' | 'expert', desktop = false, terminal = true, nothingSharedAfterMs = 0, onTerminal = false) {
  const input = new PassThrough();
  const output = new PassThrough();
  // On a terminal the waiting line is redrawn every second.
  if (onTerminal) Object.assign(output, { isTTY: true, columns: 120, rows: 40 });
  const errors = new PassThrough();
  let screen = '';
  output.setEncoding('utf8');
  output.on('data', (text: string) => (screen += text));
  const ui = new HumanFrontend({ role, input, output, errors, desktop, terminal, nothingSharedAfterMs });
  const commands: Command[] = [];
  ui.listen((command) => commands.push(command));
  /** Feeds raw bytes as one read; resolves once the interface has handled them. */
  const keys = async (...chunks: Array<string | number[]>) => {
    for (const chunk of chunks) {
      input.write(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk));
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  return { ui, commands, keys, screen: () => screen };
}

const bytesOf = (command: Command | undefined) => (command?.cmd === 'input' ? Buffer.from(command.bytes).toString('utf8') : undefined);

async function liveAgent() {
  const agent = frontend('agent');
  agent.ui.show({ event: 'connected', peer: 'Bob', verification: '123456' });
  agent.ui.show({ event: 'approved', mode: 'view' });
  return agent;
}

describe('the person’s keys', () => {
  it('v, c and d decide; nothing typed after the choice ends or changes it', async () => {
    for (const [key, expected] of [
      ['v', { cmd: 'approve', mode: 'view' }],
      ['C', { cmd: 'approve', mode: 'control' }],
      ['d', { cmd: 'deny' }],
      [[0x03], { cmd: 'deny' }],
    ] as const) {
      const agent = frontend('agent');
      agent.ui.show({ event: 'connected', peer: 'Bob', verification: '123456' });
      expect(agent.screen()).toContain('Verification code:  123 456');
      await agent.keys('x', typeof key === 'string' ? key : [...key], 'q', [0x03]);
      expect(agent.commands).toEqual([expected]);
      agent.ui.close();
    }
  });

  it('q or Ctrl-C while waiting for the technician cancels', async () => {
    for (const key of ['q', [0x03]]) {
      const agent = frontend('agent');
      await agent.keys(key);
      expect(agent.commands).toEqual([{ cmd: 'end' }]);
      agent.ui.close();
    }
  });

  it('everything but Ctrl-] goes to the terminal; Ctrl-] then a key is a command, also inside one read', async () => {
    const agent = await liveAgent();
    await agent.keys('ls -l\r\x1dcq\x03', '\x1dp', '\x1d\x1d', '\x1de');
    expect(agent.commands).toEqual([
      { cmd: 'input', bytes: new Uint8Array(Buffer.from('ls -l\r')) },
      { cmd: 'grant-control' },
      { cmd: 'input', bytes: new Uint8Array(Buffer.from('q\x03')) },
      { cmd: 'pause' },
      { cmd: 'input', bytes: new Uint8Array([0x1d]) },
      { cmd: 'end' },
    ]);
  });

  it('c and p toggle with the state the session reports', async () => {
    const agent = await liveAgent();
    agent.ui.show({ event: 'control', state: 'granted' });
    agent.ui.show({ event: 'paused' });
    await agent.keys('\x1dc', '\x1dp');
    expect(agent.commands).toEqual([{ cmd: 'revoke-control' }, { cmd: 'resume' }]);
  });

  it('p pressed twice before the pause is reported (the relay records it first) pauses, then resumes', async () => {
    const agent = await liveAgent();
    await agent.keys('\x1dp', '\x1dp');
    expect(agent.commands).toEqual([{ cmd: 'pause' }, { cmd: 'resume' }]);
  });

  it('n refuses control only when the technician asked for it', async () => {
    const agent = await liveAgent();
    await agent.keys('\x1dn');
    agent.ui.show({ event: 'control-requested' });
    expect(agent.screen()).toContain('Bob asks for control of your terminal');
    await agent.keys('\x1dn', '\x1dn');
    expect(agent.commands).toEqual([{ cmd: 'refuse-control' }]);
    // Once the refusal went out, the person is told.
    agent.ui.show({ event: 'control', state: 'refused' });
    expect(agent.screen()).toContain("You said no to Bob's request for control: they can still watch.");
  });

  it('i says “still here” only while an idle warning is out; without one it says there is none', async () => {
    const agent = await liveAgent();
    await agent.keys('\x1di');
    expect(agent.screen()).toContain('The session is not about to end for inactivity: you will be warned before it would.');
    agent.ui.show({ event: 'idle-warning', secondsLeft: 300, endsAt: new Date(Date.now() + 300_000).toISOString() });
    expect(agent.screen()).toContain('Nothing has happened for a while: the session ends at');
    await agent.keys('\x1d');
    expect(agent.screen()).toContain('i I’m still here · c give control');
    await agent.keys('i');
    expect(agent.commands).toEqual([{ cmd: 'still-here' }]);
    agent.ui.show({ event: 'idle-cleared' });
    expect(agent.screen()).toContain('Someone is active again: the session goes on.');
    await agent.keys('\x1d');
    expect(agent.screen().split('\n').at(-1)).not.toContain('still here');
  });

  it('the technician is told when the person shares nothing yet, and not when a terminal comes with the approval', async () => {
    const nothing = 'Ada shares nothing yet (no terminal, no screen). You can chat with Ctrl-] then m; a terminal they share appears here.';
    for (const share of [undefined, { event: 'terminal-share', state: 'started' }] as const) {
      const expert = frontend('expert');
      expert.ui.show({ event: 'connected', peer: 'Ada', verification: '123456' });
      expert.ui.show({ event: 'approved', mode: 'view' });
      if (share) expert.ui.show(share);
      await new Promise((resolve) => setTimeout(resolve, 0));
      if (share) expect(expert.screen()).not.toContain(nothing);
      else expect(expert.screen()).toContain(nothing);
      expert.ui.close();
    }
  });

  it('a message is edited as UTF-8 even when a character is split across reads', async () => {
    const agent = await liveAgent();
    const euro = [...Buffer.from('€')];
    await agent.keys('\x1dm', 'Grüß', [euro[0]!], [euro[1]!, euro[2]!], 'x', [0x7f], '!', '\r');
    expect(agent.commands).toEqual([{ cmd: 'chat', text: 'Grüß€!' }]);
    expect(agent.screen()).toContain('message (Enter sends, Esc cancels): Grüß€x\b \b!');
  });

  it('Esc cancels a message; the keys after it go to the terminal again', async () => {
    const agent = await liveAgent();
    await agent.keys('\x1dm', 'oops', [0x1b], 'ls\r');
    expect(agent.commands).toEqual([{ cmd: 'input', bytes: new Uint8Array(Buffer.from('ls\r')) }]);
    expect(agent.screen()).toContain('(not sent)');
  });

  it('the terminal’s output waits while a message is typed', async () => {
    const agent = await liveAgent();
    await agent.keys('\x1dm', 'hi');
    let shown = false;
    void Promise.resolve(agent.ui.show({ event: 'output', bytes: new Uint8Array(Buffer.from('OUTPUT')) })).then(() => (shown = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(shown).toBe(false);
    expect(agent.screen()).not.toContain('OUTPUT');
    await agent.keys('\r');
    await new Promise((resolve) => setImmediate(resolve));
    expect(shown).toBe(true);
    expect(agent.screen()).toContain('OUTPUT');
  });
});

describe('how a session ended, on the screen', () => {
  it('names the other side once it connected, and says "the person" before that', async () => {
    const agent = frontend('agent');
    agent.ui.show({ event: 'connected', peer: 'Bob', verification: '123456' });
    agent.ui.show({ event: 'ended', reason: 'denied' });
    expect(agent.screen()).toContain('You did not let Bob in.');
    const { ui, screen } = frontend('expert');
    ui.show({ event: 'ended', reason: 'burned' });
    expect(screen()).toContain('Too many wrong passwords or codes were tried, so the invitation was blocked. Ask the person for a new one.');
  });
});

describe('the person’s program after the session', () => {
  it('still runs: keys go to it, its output is shown, Ctrl-] then e hangs it up', async () => {
    const agent = await liveAgent();
    agent.ui.show({ event: 'ended', reason: 'ended-by-expert' });
    agent.ui.show({ event: 'still-running' });
    expect(agent.screen()).toContain('Bob ended the session.');
    expect(agent.screen()).toContain('What you shared still runs here, and nobody else sees it any more.');
    await agent.ui.show({ event: 'output', bytes: new Uint8Array(Buffer.from('still here')) });
    expect(agent.screen()).toContain('still here');
    await agent.keys(':wq\r', '\x1d', [0x1b], '\x1d\x1d', '\x1de');
    expect(agent.commands).toEqual([
      { cmd: 'input', bytes: new Uint8Array(Buffer.from(':wq\r')) },
      { cmd: 'input', bytes: new Uint8Array([0x1d]) },
      { cmd: 'hang-up' },
    ]);
    agent.ui.show({ event: 'program-exited', code: 0 });
    expect(agent.screen()).toContain('Your program exited.');
  });
});

describe('the person sharing their desktop', () => {
  it('is asked with the desktop named, and told when it is shared, controlled, and no longer shared', async () => {
    const agent = frontend('agent', true);
    agent.ui.show({ event: 'connected', peer: 'Bob', verification: '123456' });
    expect(agent.screen()).toContain('v  let them see your terminal and desktop (they cannot type or click)');
    agent.ui.show({ event: 'approved', mode: 'view' });
    agent.ui.show({ event: 'desktop-share', state: 'started', monitor: 1, width: 1280, height: 720, codec: 'vp8' });
    // The monitor, not the picture's size (1280×720 here): the video is scaled to what the codec takes.
    expect(agent.screen()).toContain('Your desktop (monitor 1) is shared: Bob sees it. Ctrl-] then p pauses, c gives control, e ends.');
    agent.ui.show({ event: 'control', state: 'granted' });
    expect(agent.screen()).toContain('Bob can now type in your terminal and use your mouse and keyboard.');
    agent.ui.show({ event: 'input-dropped', count: 3, why: 'the session is paused' });
    agent.ui.show({ event: 'input-dropped', count: 9, why: 'the session is paused' });
    expect(agent.screen().split('was not applied').length).toBe(2); // said once per reason
    agent.ui.show({ event: 'desktop-share', state: 'stopped', monitor: 1 });
    expect(agent.screen()).toContain('Your desktop is no longer shared.');
  });

  it('Ctrl-] then s stops only the desktop share, b shares the clipboard or stops it; the menu names both', async () => {
    const agent = frontend('agent', true);
    agent.ui.show({ event: 'connected', peer: 'Bob', verification: '123456' });
    agent.ui.show({ event: 'approved', mode: 'view' });
    expect(agent.screen()).toContain('Keys: Ctrl-] then c (give control), p (pause), s (stop sharing the desktop), b (clipboard), m (message), e (end), ? (help).');
    agent.ui.show({ event: 'desktop-share', state: 'started', monitor: 1, width: 1280, height: 720, codec: 'vp8' });
    await agent.keys('\x1d');
    expect(agent.screen()).toContain('p pause · s stop sharing the desktop · b share the clipboard · x add 30 min · m message');
    await agent.keys('b');
    agent.ui.show({ event: 'clipboard-allowed', allowed: true });
    expect(agent.screen()).toContain('Clipboard shared: text you copy goes to Bob, text they send goes on your clipboard. Ctrl-] then b stops it.');
    await agent.keys('\x1db', '\x1ds');
    agent.ui.show({ event: 'clipboard-refused', count: 1, why: 'the clipboard is not shared' });
    agent.ui.show({ event: 'clipboard-refused', count: 2, why: 'the clipboard is not shared' });
    expect(agent.screen().split('was not put on your clipboard').length).toBe(2); // said once per reason
    expect(agent.commands).toEqual([{ cmd: 'clipboard', allowed: true }, { cmd: 'clipboard', allowed: false }, { cmd: 'stop-desktop' }]);
    // Without a desktop, neither is offered.
    const terminalOnly = await liveAgent();
    await terminalOnly.keys('\x1ds', '\x1db');
    expect(terminalOnly.commands).toEqual([]);
  });
});

describe('time limits', () => {
  it('the person is told the limit and warned, and adds time with Ctrl-] then x; the technician is told to ask', async () => {
    const agent = await liveAgent();
    const in2h = new Date(Date.now() + 2 * 3600_000).toISOString();
    agent.ui.show({ event: 'time-limit', expiresAt: in2h, secondsLeft: 7200 });
    expect(agent.screen()).toContain('This session can last until');
    expect(agent.screen()).toContain('(2 hours from now)');
    expect(agent.screen()).toContain('Ctrl-] then x adds 30 minutes.');
    agent.ui.show({ event: 'time-limit', expiresAt: new Date(Date.now() + 2.5 * 3600_000).toISOString(), secondsLeft: 9000 });
    expect(agent.screen()).toContain('(2 hours 30 minutes from now)');
    agent.ui.show({ event: 'expiry-warning', secondsLeft: 300, expiresAt: in2h });
    expect(agent.screen()).toContain('5 minutes left: the session ends at');
    await agent.keys('\x1dx');
    expect(agent.commands).toEqual([{ cmd: 'extend' }]);

    const expert = frontend('expert');
    expert.ui.show({ event: 'connected', peer: 'Ada', verification: '654321' });
    expert.ui.show({ event: 'approved', mode: 'view' });
    expert.ui.show({ event: 'expiry-warning', secondsLeft: 60, expiresAt: in2h });
    expect(expert.screen()).toContain('60 seconds left: the session ends at');
    expect(expert.screen()).toContain('Ask Ada to add time if you need it.');
  });
});

describe('the person sharing only their desktop', () => {
  it('is asked about the desktop alone; keys typed outside the menu go nowhere, and that is said once', async () => {
    const agent = frontend('agent', true, false);
    agent.ui.show({ event: 'connected', peer: 'Bob', verification: '123456' });
    expect(agent.screen()).toContain('v  let them see your desktop (they cannot click or type)');
    agent.ui.show({ event: 'approved', mode: 'view' });
    expect(agent.screen()).toContain('Bob can now see your desktop (but not click or type).');
    await agent.keys('ls\r', 'again', '\x1de');
    expect(agent.commands).toEqual([{ cmd: 'end' }]);
    expect(agent.screen().split('nothing typed here goes anywhere').length).toBe(2);
  });
});

describe('the technician’s keys', () => {
  async function liveExpert(mode: 'view' | 'control') {
    const expert = frontend('expert');
    expert.ui.show({ event: 'connected', peer: 'Ada', verification: '654321' });
    expert.ui.show({ event: 'approved', mode });
    return expert;
  }

  it('without control keys are not sent, and the technician is told once how to ask', async () => {
    const expert = await liveExpert('view');
    await expert.keys('rm -rf /\r', 'again');
    expect(expert.commands).toEqual([]);
    expect(expert.screen().split('You can only watch').length).toBe(2);
    await expert.keys('\x1dr');
    expect(expert.commands).toEqual([{ cmd: 'request-control' }]);
  });

  it('with control keys are sent until it is taken back or the session paused', async () => {
    const expert = await liveExpert('control');
    await expert.keys('ls\r');
    expert.ui.show({ event: 'paused' });
    await expert.keys('during pause');
    expert.ui.show({ event: 'resumed' });
    await expert.keys('pwd\r');
    expert.ui.show({ event: 'control', state: 'revoked' });
    await expert.keys('after');
    expect(expert.commands.map(bytesOf)).toEqual(['ls\r', 'pwd\r']);
    expect(expert.screen()).toContain('Ada took control back');
  });

  it('says when the person shares their screen, and where it can be seen', async () => {
    const expert = await liveExpert('view');
    expert.ui.show({ event: 'screen-share', state: 'started' });
    expect(expert.screen()).toContain("Ada is sharing their screen, which this terminal cannot show: to see it, help from the relay's web console in a browser, with a new invitation from Ada.");
    expert.ui.show({ event: 'screen-share', state: 'stopped' });
    expect(expert.screen()).toContain('Ada stopped sharing their screen.');
  });

  it('says when the person shares their desktop, and where to see and control it', async () => {
    const expert = await liveExpert('view');
    expert.ui.show({ event: 'screen-share', state: 'started' });
    expert.ui.show({ event: 'desktop-share', state: 'started', width: 1280, height: 720, codec: 'vp8', webConsole: 'http://127.0.0.1:8787/' });
    // Once: the screen-share line already said this terminal cannot show it and that a new invitation is the way to the console.
    expect(expert.screen()).toContain("It is Ada's whole desktop: in the web console (http://127.0.0.1:8787/) you can also use its mouse and keyboard once Ada gives you control.");
    expect(expert.screen().split('cannot show').length).toBe(2);
    expert.ui.show({ event: 'desktop-share', state: 'started', width: 960, height: 540, codec: 'vp8', webConsole: 'http://127.0.0.1:8787/' });
    expect(expert.screen().split('whole desktop').length).toBe(2); // a new size is not news
  });

  it('shows the person’s terminal only once they share one, and says how a request for control ended', async () => {
    const expert = await liveExpert('view');
    expect(expert.screen()).not.toContain("--- Ada's terminal ---");
    expert.ui.show({ event: 'terminal-share', state: 'started' });
    expect(expert.screen()).toContain("--- Ada's terminal ---");
    expert.ui.show({ event: 'control', state: 'nothing-to-control' });
    expect(expert.screen()).toContain('Ada shares nothing you could control');
    expert.ui.show({ event: 'control', state: 'unanswered' });
    expect(expert.screen()).toContain('Ada has not answered your request for control for a minute.');
  });

  it('Ctrl-] then v sends the technician’s clipboard, offered once the person shares theirs', async () => {
    const expert = await liveExpert('view');
    await expert.keys('\x1d');
    expect(expert.screen()).toContain('r ask for control · m message · e leave');
    await expert.keys('\x1b');
    expert.ui.show({ event: 'clipboard-allowed', allowed: true });
    expect(expert.screen()).toContain('Ada shares their clipboard: Ctrl-] then v puts the text on your clipboard on theirs. What they copy is only counted here.');
    await expert.keys('\x1d');
    expect(expert.screen()).toContain('r ask for control · v send your clipboard · m message · e leave');
    await expert.keys('v');
    expect(expert.commands).toEqual([{ cmd: 'send-clipboard' }]);
    expert.ui.show({ event: 'clipboard', direction: 'sent', characters: 12 });
    expect(expert.screen()).toContain("Put the 12 characters on your clipboard on Ada's clipboard.");
    expert.ui.show({ event: 'clipboard', direction: 'received', characters: 5, text: 'hello' });
    // Only counted here; not sent to a console that cannot join this session.
    expect(expert.screen()).toContain('Ada copied 5 characters (this terminal only counts them: a technician in the web console or with --json gets the text).');
    expect(expert.screen()).not.toContain('hello');
  });

  /** A technician's terminal that offered help to Reception PC (its person is asked first); `asked`: the device joined and asks. */
  const offeringExpert = (asked: boolean) => {
    const expert = frontend('expert', false, true, 0, true);
    expert.ui.show({ event: 'offered', device: 'Reception PC', deviceId: 'd1', group: 'Finance laptops', reason: 'Ticket 4711', level: 'control', consent: 'ask' });
    if (asked) expert.ui.show({ event: 'connected', peer: 'Reception PC', verification: '102994' });
    return expert;
  };

  it('offering help: the countdown while the person is asked stops once they let the technician in', () => {
    vi.useFakeTimers();
    try {
      const expert = offeringExpert(true);
      vi.advanceTimersByTime(3_000);
      expect(expert.screen()).toContain('Waiting for the person at Reception PC to answer');
      expert.ui.show({ event: 'approved', mode: 'view' });
      const afterApproval = expert.screen().length;
      vi.advanceTimersByTime(5_000);
      expect(expert.screen().slice(afterApproval)).not.toContain('Waiting for the person');
    } finally {
      vi.useRealTimers();
    }
  });

  it('offering help: counts down from the time the device says its person has, and says so when nobody answered', () => {
    vi.useFakeTimers();
    try {
      const expert = offeringExpert(true);
      expect(expert.screen()).toContain('Reception PC to answer (60 s)');
      expert.ui.show({ event: 'asked', seconds: 150 });
      vi.advanceTimersByTime(10_000);
      expect(expert.screen()).toContain('Reception PC to answer (140 s)');
      vi.advanceTimersByTime(140_000);
      expert.ui.show({ event: 'ended', reason: 'denied', offerAnswer: 'no-answer' });
      expect(expert.screen()).toContain('Nobody at Reception PC answered within 150 s, so the offer was turned down.');
    } finally {
      vi.useRealTimers();
    }
  });

  it('offering help: says the device refused the offer itself, with its code', () => {
    const expert = offeringExpert(false);
    expert.ui.show({ event: 'ended', reason: 'denied', offerAnswer: 'token-expired' });
    expect(expert.screen()).toContain('Reception PC refused the offer without asking anyone (token-expired): it did not accept your sign-in: sign in again');
  });

  it('offering help: a shared desktop is seen by offering again from the console, not with an invitation the device cannot make', () => {
    const expert = offeringExpert(true);
    expert.ui.show({ event: 'approved', mode: 'control' });
    expert.ui.show({ event: 'screen-share', state: 'started' });
    expect(expert.screen()).toContain("help from the relay's web console in a browser, offering help to Reception PC again from its Devices view.");
    expect(expert.screen()).not.toContain('new invitation');
  });

  it('says when the request for control was refused', async () => {
    const expert = await liveExpert('view');
    expert.ui.show({ event: 'control', state: 'refused' });
    expect(expert.screen()).toContain('Ada said no to control: you can still watch.');
  });
});
