import { routeStyleElementsToConstructedSheets } from './csp-styles.js';
import { h, showScreen } from './dom.js';
import { continueAsTechnician, showJoinLink, showStart } from './expert.js';
import { continueAsPerson, showHelp } from './person.js';
import { resumeFromTab, savedSession } from './resume.js';
import { showTechnicianSignIn } from './technician-sign-in.js';

// One page for every path the relay serves it at: `/` (start), `/help` (the person who needs
// help), `/join/<nameplate>` (a file invitation's link, whose secret is in the fragment, which never
// left this browser; the relay serves it alike for every nameplate and says nothing about it).

routeStyleElementsToConstructedSheets();

function route(): void {
  // A reload during an approved session: back into it, whatever the address (it is `/` by then).
  const saved = savedSession();
  if (saved) return void resumeFromTab(saved, { person: continueAsPerson, technician: continueAsTechnician });
  const path = location.pathname.replace(/\/+$/, '');
  if (path === '' || path === '/') return showStart();
  if (path === '/help') return showHelp();
  if (path === '/technician') return showTechnicianSignIn();
  if (path.startsWith('/join/')) return showJoinLink(location.href);
  showScreen('Page not found', h('p', {}, h('a', { href: '/' }, 'Go to the start page')));
}

route();
