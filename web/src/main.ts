import { routeStyleElementsToConstructedSheets } from './csp-styles.js';
import { h, showScreen } from './dom.js';
import { showJoin, showStart } from './expert.js';
import { showAcceptCode, showHelp } from './person.js';

// One page for every path the relay serves it at: `/` (start), `/help` (the person who needs
// help), `/join/<nameplate>` (an open invitation; the relay says which kind in meta elements, and
// a relay URL's secret is in the fragment, which never left this browser).

routeStyleElementsToConstructedSheets();

const meta = (name: string) => document.querySelector<HTMLMetaElement>(`meta[name="${name}"]`)?.content;

function route(): void {
  const path = location.pathname.replace(/\/+$/, '');
  if (path === '' || path === '/') return showStart();
  if (path === '/help') return showHelp();
  const nameplate = meta('assist-invitation-nameplate');
  const kind = meta('assist-invitation-kind');
  const expiresAt = new Date(meta('assist-invitation-expires') ?? '');
  if (path.startsWith('/join/') && nameplate) {
    if (kind === 'file') {
      const secret = decodeURIComponent(location.hash.replace(/^#/, '')) || undefined;
      return showJoin({ kind, nameplate, secret, expiresAt });
    }
    if (kind === 'easy-connect') return showJoin({ kind, nameplate, expiresAt });
    if (kind === 'helper-code') return showAcceptCode(nameplate);
  }
  showScreen('Page not found', h('p', {}, h('a', { href: '/' }, 'Go to the start page')));
}

route();
