import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { escapeHtml } from '../../../shared/server/html.js';
import { renderJoinPage, renderRelayInfo } from '../../../shared/server/join-page.js';
import { parseRelayInfo } from '../../../shared/core/relay-url.js';

/** Text as a person reads it: tags dropped, entities decoded, whitespace collapsed. */
function visibleText(html: string): string {
  return html
    .replace(/<style>[\s\S]*?<\/style>/, '')
    .replace(/<[^>]*>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ');
}

function expectStrictHeaders(headers: Record<string, string>, body: string): void {
  const style = /<style>([\s\S]*?)<\/style>/.exec(body)?.[1];
  expect(style).toBeDefined();
  const hash = createHash('sha256').update(style!, 'utf8').digest('base64');
  expect(headers['content-security-policy']).toMatch(new RegExp(`^default-src 'none'; style-src 'sha256-${hash.replace(/[+/]/g, '\\$&')}';`));
  expect(headers['content-security-policy']).not.toContain('unsafe');
  expect(headers).toMatchObject({
    'content-type': 'text/html; charset=utf-8',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-store',
    'x-frame-options': 'DENY',
  });
  expect(body.match(/<style>/g)).toHaveLength(1);
  // Every inserted value is escaped, so each "<" starts one of the page's own tags: no script, no
  // resource, no event handler, no inline style attribute.
  for (const [tag] of body.matchAll(/<[^>]*>/g)) {
    expect(tag).toMatch(/^<(!doctype html|\/?(html|head|meta|title|style|body|main|h1|h2|p|pre|code|time)\b)/);
    expect(tag).not.toMatch(/\s(on\w+|style|src|href)=/i);
  }
  expect(body).toMatch(/^<!doctype html>\n<html lang="en">/);
  expect(body.match(/<h1>/g)).toHaveLength(1);
}

describe('renderJoinPage', () => {
  it('is one page for every link: what happened and how to join with the relay’s own command, never an npm package name', () => {
    const { statusCode, headers, body } = renderJoinPage({ state: 'link' });
    expect(statusCode).toBe(200);
    expectStrictHeaders(headers, body);
    const text = visibleText(body);
    expect(text).toContain('You opened an invitation link');
    expect(text).toContain("assist join '<the full link, including the part after #>'");
    expect(text).toContain('cli/README.md');
    expect(text).not.toContain('npx');
    expect(text).toContain('asked for the password');
    expect(text).toContain('ask for a new one');
    expect(text).toContain('after # stays on your computer');
    expect(body).toMatch(/<p id="join-command">[^<]+<code>assist<\/code>[^<]+<code>cli\/README.md<\/code>[^<]+<\/p>\n<pre aria-labelledby="join-command">/);
    expect(renderJoinPage({ state: 'link' })).toEqual({ statusCode, headers, body });
  });

  it('answers 429 when the address opened or joined too many, escaping the reason', () => {
    const { statusCode, headers, body } = renderJoinPage({ state: 'rate-limited', message: 'too many <b>joins</b>' });
    expect(statusCode).toBe(429);
    expectStrictHeaders(headers, body);
    expect(visibleText(body)).toContain('This network address opened or joined too many invitations: too many <b>joins</b>.');
  });

  it('gives each response its own headers object', () => {
    const first = renderJoinPage({ state: 'link' });
    first.headers['x-frame-options'] = 'SAMEORIGIN';
    expect(renderJoinPage({ state: 'link' }).headers['x-frame-options']).toBe('DENY');
  });
});

describe('escapeHtml', () => {
  it('escapes the five characters that matter in content and attributes', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe('&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
  });
});

describe('renderRelayInfo', () => {
  it('answers public JSON that parseRelayInfo reads back', () => {
    const relay = { webSocketUrl: 'wss://relay.example.org/prod', httpUrl: 'https://relay.example.org' };
    const { statusCode, headers, body } = renderRelayInfo(relay);
    expect(statusCode).toBe(200);
    expect(headers).toMatchObject({
      'content-type': 'application/json; charset=utf-8',
      'access-control-allow-origin': '*',
      'x-content-type-options': 'nosniff',
    });
    expect(parseRelayInfo(body)).toEqual({ version: 1, ...relay });
  });
});
