// The help texts: `assist --help` and `assist <command> --help`.

export const DEFAULT_RELAY = 'http://127.0.0.1:8787';

const common = `Options for every command:
  --relay URL       the relay's address (default: $ASSIST_RELAY, or ${DEFAULT_RELAY},
                    the relay \`npm start\` runs on this machine)
  --name NAME       your name, shown to the other side (default: your user name)
  --json            scripting mode: JSON lines on stdout and stdin (see \`assist --help\`)
  -h, --help        show help`;

const desktopOptionsHelp = `  --desktop           share your desktop instead of a terminal (Linux with X11, macOS,
                      Windows): once you let your technician in, they see it live in the
                      relay's web console, and use your mouse and keyboard only while you
                      give them control. Nothing is captured before you decide, nor while
                      paused. With --command CMD, a terminal running CMD is shared too
  --monitor N         which monitor to share (numbers from \`assist monitors\`;
                      default: the primary one)
  --max-fps N         at most N pictures a second (default 20, at most 30); fewer
                      follow on a slow link or a busy machine, none while your screen
                      does not change. The picture is made smaller only when it cannot
                      come 15 times a second (or N, if lower), never to reach more
  --codec vp8|h264    the video codec: h264 (the default) is used when your technician's
                      browser decodes it, else vp8. H.264 costs this machine far less
                      (a full HD picture in a fifth of VP8's time) but runs libx264,
                      which is GPL; vp8 (libvpx, BSD) keeps GPL code from running here
  --clipboard         let clipboard text follow both ways (off unless given): what you
                      copy during the session goes to your technician, what they send goes
                      on your clipboard (up to 64 KiB of text; needs xclip or xsel on
                      Linux, pbcopy on macOS, PowerShell on Windows, untested there)`;

const sessionKeys = `During the session every key goes to the shared terminal, except Ctrl-],
which opens a menu: give or take back control (c), pause or resume (p), add 30
minutes to the time limit (x), send a message (m), ask for control (r), end (e),
help (?); with --desktop also stop sharing the desktop only (s) and share the
clipboard or stop it (b). While the person shares their clipboard, the technician puts
the text on their own clipboard on the person's (v). Both sides see the time limit,
and a warning 5 minutes and 1 minute before it. A session in which nothing happens
ends too (15 minutes on a default relay): both sides are warned 5 minutes and 1
minute before, and anything either does, or Ctrl-] then i (I'm still here), puts it off.`;

const yourProgram = `Your shell (or --command) is yours: however the session ends (you end it, your
technician leaves, time runs out, the connection is lost), it keeps running here, no
longer shared, until you leave it as usual (exit) or press Ctrl-] then e to hang it up.`;

export const helpTexts = {
  main: `assist: get help with your terminal (and desktop), or help someone with theirs, through an Assist Relay.
Everything between the two of you is end-to-end encrypted; the relay only passes it on.

If you need help:
  assist invite --easy-connect      show a password to read out to your technician
  assist invite --file PATH         write an invitation file to send, and show its password
  assist invite --email ADDRESS     have the relay email the invitation, and show its password
  assist accept CODE                use a helper code your technician reads out to you
  … --desktop                       share your desktop instead (see \`assist invite --help\`)
  assist monitors                   list the monitors --desktop --monitor N can share
  assist enrol --relay URL --token T  make this machine a device your help desk can reach
  assist agent                      keep it reachable (run it as a service)
You see who connects and a verification code, then let them watch (v), let them
type too (c), or turn them away (d). You can take control back, pause, chat and
end at any time.

If you help:
  assist login                      sign in as a technician with your organisation's account
  assist join PASSWORD              join with the password the person reads out
  assist join FILE                  join with an invitation file (asks for its password)
  assist join URL                   join with an invitation link (asks for its password)
  assist offer                      show a helper code to read out to the person
  assist devices                    list the enrolled devices you may offer help to
  assist offer --device NAME --reason TEXT   offer help to one of them
You read your verification code out to the person; once they let you in you see
their terminal, can chat, and ask for control.

${sessionKeys}

If the connection drops, assist reconnects by itself. If assist itself stops (a crash, a
killed process), \`assist resume\` continues the session within 5 minutes, without a new
approval (see \`assist resume --help\`).

${common}

Scripting mode (--json): stdout carries only JSON objects, one per line, each with
"event": invitation (kind, password, file, to, url, expiresAt, cappedFromSeconds), connected (peer,
verification), offered (device, deviceId, group, reason, level, consent: assist offer
--device), asked (seconds: the device's person has that long to answer), peer-left,
attempt-failed (failedAttempts, maxFailedAttempts), approved (mode: view|control), denied, control (state: granted|revoked|refused|
nothing-to-control|unanswered),
control-requested, paused, resumed, terminal-share (state: started|stopped),
output (data: terminal bytes, base64),
resize (cols, rows), chat (text), screen-share (state: started|stopped; reason
when stopped: by-person|monitor-gone|capture-failed|encoder-failed|restarted),
desktop-share (state: started|stopped, monitor, width, height, codec, reason; the
technician also gets webConsole), desktop-error (code, message), input-dropped (count, why),
clipboard-allowed (allowed), clipboard (direction: sent|received, characters; the
technician also gets text), clipboard-refused (count, why), time-limit (expiresAt,
secondsLeft, maxExpiresAt), expiry-warning (secondsLeft, expiresAt), idle-warning
(secondsLeft, endsAt: nothing happened; the session ends then), idle-cleared, ended (reason; offerAnswer when an offer to a device was turned down),
still-running (the person's program outlived the session), program-exited (code),
peer (state: disconnected|connected: the other side's connection dropped or is
back), connection (state: reconnecting|connected, attempt: this side's),
session-restored (peer, mode, control, paused: after assist resume), error (code, message).
Commands are JSON lines on stdin, each with "cmd": approve (mode), deny, chat
(text), input (data, base64), resize (cols, rows), request-control, grant-control,
revoke-control, refuse-control, pause, resume, clipboard (allowed: true|false),
send-clipboard (the technician: text, or without it the technician's own clipboard's text),
stop-desktop, extend (minutes, default 30), still-here (puts off the idle end), end,
hang-up (the person ends their program). Closing stdin ends the
session and hangs up the person's program.
Exit status: 0 when the session ended normally (by you, or by the other side once
under way), 1 when it ended otherwise (expired, denied, lost…: the reason is in the
"ended" event and on stderr), 2 for wrong arguments.

Examples:
  npm start                                       # a relay on this machine, in another terminal
  assist invite --easy-connect                    # the person who needs help
  assist join 7KQ3-VK4Q-9T2M                      # the technician, with the password read out
  assist invite --file ~/help.assistinvite --relay https://relay.example.org
  assist --help invite                            # more about one command`,

  invite: `assist invite: ask for help. Opens an invitation on the relay, shows what to hand over,
waits for your technician (showing the time left), shows who connects and the verification
code, and asks you to let them watch (v), let them type too (c), or deny (d). Then your
terminal is shared: a new shell (or --command) runs inside it; your technician sees it, and
types in it only while you give them control.

Usage: assist invite (--easy-connect | --file PATH | --email ADDRESS) [options]

  --easy-connect      show a 12-character password to read out (open 30 minutes)
  --file PATH         write the invitation file to PATH (a folder: a file named after
                      the invitation inside it) and show its password (open 6 hours)
  --email ADDRESS     have the relay email the invitation file to ADDRESS and show its
                      password; tell the password separately (never in the email)
  --expires-in TIME   how long the invitation stays open: 90s, 10m, 2h (the relay caps it)
  --command CMD       share this command instead of your shell; the session ends when
                      it exits
${desktopOptionsHelp}

${sessionKeys}

${yourProgram}

${common}

Examples:
  assist invite --easy-connect
  assist invite --easy-connect --desktop     # your primary monitor (no terminal)
  assist invite --easy-connect --desktop --command bash   # the monitor and a terminal
  assist invite --email technician@example.org --desktop --monitor 2 --max-fps 10
  assist invite --file ~/Desktop
  assist invite --email technician@example.org --expires-in 2h
  assist invite --easy-connect --command 'htop'
  assist invite --easy-connect --json        # {"event":"invitation",...} then commands on stdin`,

  accept: `assist accept: let a technician in with the helper code they read out to you (they ran
\`assist offer\`). Then the same as \`assist invite\`: the verification code, your choice
(v, c or d), and your shared terminal.

Usage: assist accept (CODE | -) [options]

  CODE                the 12-character helper code, e.g. 7KQ3-VK4Q-9T2M (spaces, dashes
                      and lower case are fine; O reads as 0, I and L as 1)
  -                   type the code instead (or pipe it in, or set $ASSIST_CODE): arguments
                      show in \`ps\` to everyone on this machine
  --command CMD       share this command instead of your shell
${desktopOptionsHelp}

${sessionKeys}

${yourProgram}

${common}

Examples:
  assist accept 7KQ3-VK4Q-9T2M
  assist accept 7KQ3-VK4Q-9T2M --desktop
  assist accept '7kq3 vk4q 9t2m' --relay https://relay.example.org
  assist accept -                           # asks for the code: it stays out of \`ps\``,

  join: `assist join: help someone who invited you. Shows your verification code to read out to
them; once they let you in, shows their terminal live. Chat with Ctrl-] m, ask for
control with Ctrl-] r; with control, your keys go to their terminal.

Usage: assist join (PASSWORD | FILE | URL | -) [options]

  PASSWORD            the Easy Connect password they read out, e.g. 7KQ3-VK4Q-9T2M
  FILE                an invitation file (.assistinvite) they sent you
  URL                 an invitation link https://…/join/…#…
  -                   type the invitation instead (or pipe it in, or set $ASSIST_INVITATION):
                      arguments show in \`ps\` to everyone on this machine, so prefer this
  --password PW       the invitation password for a FILE or URL (otherwise you are asked;
                      $ASSIST_PASSWORD works too; both keep it out of \`ps\`)

A FILE or URL names its relay; --relay is needed only with a PASSWORD for another relay.
When the person shares their desktop (assist invite --desktop), you are told so: this
command shows only a terminal they share (with --desktop only with --command); open the relay's web console in a browser to see the
desktop and, with control, use its mouse and keyboard.
When they share their clipboard (--clipboard), Ctrl-] v puts the text on your own
clipboard on theirs (read with xclip or xsel on Linux, pbpaste on macOS, PowerShell on Windows).

${sessionKeys}

${common}

Examples:
  assist join 7KQ3-VK4Q-9T2M
  assist join ~/Downloads/assist-7KQ3.assistinvite
  assist join 'https://relay.example.org/join/7KQ3#…' --password ABCD-EFGH
  assist join -                             # asks for the password: it stays out of \`ps\`
  assist join 7KQ3-VK4Q-9T2M --json          # events on stdout, commands on stdin`,

  offer: `assist offer: offer help first. Shows a helper code to read out to the person; they type
it into \`assist accept CODE\`. Then the same as \`assist join\`.

With --device, the help desk's way (you signed in with \`assist login\`): no code to read
out. The code goes, sealed to the device's own key, through the relay to an enrolled device
(\`assist devices\` lists those you may help); the relay checks that the operator's policy
lets your groups help it, and keeps the offer in its audit log. The device checks the policy
too, then asks its person, showing your name and e-mail as your organisation signed them,
your reason and the verification code you see here; they have a minute (by default) to
allow view, allow control or deny. Allowed, the session is the same as any other.

Usage: assist offer [options]
       assist offer --device NAME --reason TEXT [options]

  --expires-in TIME   how long the code stays open: 90s, 10m, 1h (default 10 minutes)
  --device NAME       the enrolled device to offer help to: its name (any case) as
                      \`assist devices\` lists it, or its id when two share a name
  --reason TEXT       required with --device: why, or a ticket number (up to 200
                      characters); the person sees it, and the relay's audit keeps it

With --device, --name defaults to the name your sign-in carries, and --relay, when given,
must be the relay you signed in at. Exit status: 0 the session ended normally, 1 it could
not start or ended abnormally (the sentence says why: not signed in, sign-in expired, no
such device, device offline, not permitted …), 2 wrong arguments, and when the offer is
turned down, as the device answered: 3 the person said no, 4 nobody answered in time, 5 the
device refused the offer without asking anyone (the sentence and the audit log say why). The
relay passes the device's answer on; it cannot let you in, but it could claim a "no".

${sessionKeys}

${common}

Examples:
  assist offer
  assist offer --name 'Grace (IT desk)' --relay https://relay.example.org
  assist offer --device 'Reception PC' --reason 'INC-4711: printer offline'
  assist offer --device 3f9c0d1e… --reason 'Ticket 88' --json   # events on stdout`,

  devices: `assist devices: list the enrolled devices you may offer help to, as the technician
\`assist login\` signed in: those in a device group whose policy (set by the operator) names
one of your groups. For each: its name, group, operating system, whether its agent is
online now (or still awaiting the operator's approval: no offers until then), when the
relay last heard from it, and what the policy lets you have there (view only or control;
whether its person is asked first).

Usage: assist devices [--relay URL] [--search TEXT] [--json]

  --relay URL         the relay you signed in at (default: the one \`assist login\` used)
  --search TEXT       only devices whose name, group or operating system contain TEXT
                      (any case)
  --json              one line: {"event":"devices","technician":{"name","email","groups"},
                      "devices":[{"deviceId","name","group","os","online","lastSeenAt",
                      "level","consent","publicKey","approval"}]} (lastSeenAt in epoch seconds;
                      no approval: awaiting the operator's), or
                      {"event":"error","code":…,"message":…}
  -h, --help          show help

Not signed in, or the sign-in has expired (about an hour on most issuers): run
\`assist login --relay URL\` first. Exit status: 0 listed (an empty list says why), 1
refused or unreachable (the sentence says why), 2 wrong arguments.

Examples:
  assist devices
  assist devices --search reception
  assist devices --json | jq -r '.devices[] | select(.online) | .name'
  assist offer --device 'Reception PC' --reason 'INC-4711: printer offline'`,

  resume: `assist resume: continue a session after the assist process that held it stopped (a
crash, a kill), within the relay's resume grace (5 minutes), without a new approval: the
same technician or person, keys and decisions (control, pause).

Usage: assist resume [SESSION] [--json]

  SESSION             the session id (or its start) when several can be resumed; the
                      ids are the file names in the state directory
  --json              scripting mode, as for the other commands (session-restored first)
  -h, --help          show help

From the approval until the end, assist keeps each session in a file only you can read,
$XDG_STATE_HOME/assist/<session>.<side>.json (or ~/.local/state/assist/), removed when the session
ends. It holds the session's keys: whoever reads it could take your place until it ends.
Nothing is kept before approval: an invitation not yet accepted starts over.
It is refused while the assist process that holds the session still runs (it reconnects
by itself). Limits: the program you shared ended with that process: a new shell (or the
same --command) starts in its place; a desktop share or the clipboard is not restarted
(your technician is told the share stopped); keys typed in the instant of the crash may be lost.

Examples:
  assist resume
  assist resume 3f9c --json`,

  monitors: `assist monitors: list the monitors you can share with \`assist invite --desktop --monitor N\`
(or \`assist accept CODE --desktop --monitor N\`): number, name, size, position, and which
is the primary one (shared when --monitor is left out). Nothing is captured.

Usage: assist monitors [--json]

  --json              one line: {"event":"monitors","monitors":[{"number":1,"name":…,
                      "x":…,"y":…,"width":…,"height":…,"primary":…,"scaleFactor":…}]}
  -h, --help          show help

Desktop sharing needs an X11 session on Linux (Wayland is refused: it lets no program
read the screen this way), Screen Recording and Accessibility permission on macOS.

Examples:
  assist monitors
  assist invite --easy-connect --desktop --monitor 2`,

  enrol: `assist enrol: make this machine a device your organisation's help desk can offer help to.
Creates the device's own key pair here and registers its public half, its name and its
operating system with the relay, spending an enrolment token your operator made for a
device group (npm run operator -- enrolment-token --group NAME --expires 7d).

Usage: assist enrol --relay URL --token TOKEN [--name NAME] [--json]

  --relay URL         the relay's https:// address (or $ASSIST_RELAY)
  --token TOKEN       the enrolment token (or $ASSIST_ENROLMENT_TOKEN, which keeps it out
                      of the process list)
  --name NAME         the device's name as the help desk sees it (default: the host name)
  --json              one line: {"event":"enrolled","deviceId":…,"name":…,"group":…,"os":…,"file":…}
                      or {"event":"error","code":…,"message":…}
  -h, --help          show help

The identity is kept in $XDG_STATE_HOME/assist/device.json (or ~/.local/state/assist/), a
file only you can read: whoever reads it can sign in as this device until the operator
removes it. A machine enrols once; to enrol it again, have the operator remove it, then
delete that file. Exit status: 0 enrolled, 1 refused (the sentence says why), 2 wrong
arguments.

Examples:
  assist enrol --relay https://relay.example.org --token Qm9…
  ASSIST_ENROLMENT_TOKEN=Qm9… assist enrol --relay https://relay.example.org --name 'Reception PC'`,

  agent: `assist agent: keep this enrolled device reachable by the help desk. Signs in to the relay
with the device's key (over a one-time challenge: no secret is sent), then waits; heartbeats keep
the connection within the relay's idle limit, a fresh connection replaces it before the relay's
2-hour limit, and while the relay cannot be reached it tries again, waiting longer each time (up to
a minute). Run it as a service so it starts with the machine (docs/help-desk.md: systemd, launchd,
Windows).

When a technician offers help, the device checks the offer itself: the group policy must carry the
signature of the operator key pinned at enrolment, and one of its rules must name one of the
technician's groups. Then it opens a page on this machine (127.0.0.1, a random port and a secret
path: other users of the machine cannot answer it) showing who asks, why, and the verification code
the technician reads to you: allow view, allow control (when the policy allows it), or deny; on a
terminal, v, c or d answers too. No answer in time is a denial. Where the policy says "notice", the
technician connects without asking and the page says so.

Allowed, this machine's desktop is shared as assist invite --desktop shares it (view only, or with
control), and the page stays open as the session's controls: pause, take back or give control (only
as far as the policy allows), stop sharing the screen, chat, end. On a terminal the invite's keys
work too (Ctrl-] then c, p, s, m, e, ?). Without a display, a shell is shared instead only when this
agent runs in a terminal you see and you choose "Share a shell"; run as a service it never starts a
shell, and the technician can only chat.

Usage: assist agent [--consent-timeout DURATION] [--no-browser] [--json]

  --consent-timeout D how long you have to answer an offer (default 60s, at most 10m)
  --no-browser        do not open the page in the browser (its address is printed)
  --json              JSON lines: {"event":"online","deviceId":…,"name":…,"group":…,"renewal":…},
                      {"event":"offline","reason":…,"retryInSeconds":…}, {"event":"stopped"},
                      {"event":"offer","technician":…,"reason":…,"verification":…,"shares":…,"page":…},
                      {"event":"offer-answered","answer":…}, {"event":"offer-refused","code":…},
                      then the session's events as assist invite --json gives them
                      ({"event":"desktop-share",…}, {"event":"paused"}, …; stdin is not read),
                      {"event":"offer-session-ended","reason":…},
                      {"event":"error","code":…,"message":…}
  -h, --help          show help

It stops by itself only when the relay refuses the device: removed by the operator
(device-not-enrolled), a key that does not match (device-sign-in-failed), or the same device
signed in elsewhere (device-signed-in-elsewhere). Exit status: 0 after Ctrl-C or SIGTERM, 1 when
refused or not enrolled (enrol first: assist enrol --help), 2 wrong arguments.

Examples:
  assist agent
  assist agent --consent-timeout 2m
  assist agent --json`,

  login: `assist login: sign in as a technician of your organisation's help desk, with the sign-in
(OpenID Connect) the relay names in its /relay.json (Entra ID, Google, Okta, Cognito; with
\`npm start\`, its local provider). Prints an address to open in your browser; once you have
signed in there, the browser comes back to this command on this machine's loopback address
(nothing leaves this machine that way), and the relay checks who you are. Where the relay names
the exact address its sign-in sends the browser back to (Cognito: http://localhost:8976/callback),
this command listens on that port; if another program holds it, it says so.

Usage: assist login [--relay URL] [--operator-key=FINGERPRINT] [--json]

  --relay URL         the relay's https:// address (default: $ASSIST_RELAY, or ${DEFAULT_RELAY})
  --operator-key=FINGERPRINT
                      the fingerprint of your operator's key (22 characters; the operator
                      sees it with: npm run operator -- operator-key), told to you over
                      another channel than the relay. You offer help only to devices whose
                      record that key approved, so a relay cannot put its own key in place of
                      a device's. Kept for this relay in known-devices.json: needed once.
                      Write it with = (a fingerprint can begin with -).
  --json              JSON lines: {"event":"sign-in","url":…}, then {"event":"signed-in",
                      "technician":{"issuer","subject","name","email","groups"},"expiresAt":…,"file":…}
                      or {"event":"error","code":…,"message":…}
  -h, --help          show help

The sign-in (an ID token bound to a key made for it) is kept in technician.json in the same
folder as assist's other state (0600: only you can read it) until it expires, an hour on most
issuers; sign in again then. It proves to a device who offers help. Exit status: 0 signed in,
1 refused (the sentence says why: wrong account, expired, another issuer, clock skew …), 2
wrong arguments.

Examples:
  assist login --relay https://relay.example.org --operator-key=9sQk3hV0cJ0Xo2VfX5mZbQ
  assist login --json`,
} as const;

export type CommandName = Exclude<keyof typeof helpTexts, 'main'>;

export function isCommandName(name: string): name is CommandName {
  return name !== 'main' && Object.hasOwn(helpTexts, name);
}
