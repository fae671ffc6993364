import { gunzipSync } from 'node:zlib';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { integrityOf } from '../../../web/build/subresource-integrity.js';
import { consolePolicy, consoleSiteIfBuilt, ConsoleSiteError, loadConsoleSite } from '../../../web/server/console-site.js';
import { refusal } from '../../support/refusal.js';

// The relay's loader of the built console, on hand-made builds: it serves exactly what the build
// produced, refuses a build whose files do not match their integrity, and never serves a path it
// did not read at start.

const script = 'console.log("console");';
const style = 'body { color: #111; }';
const WEBSOCKET_URL = 'wss://abc123.execute-api.eu-west-1.amazonaws.com/live';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'console-site-test-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

async function writeBuild(options: { scriptIntegrity?: string; extraFiles?: Record<string, string>; index?: string } = {}): Promise<void> {
  await mkdir(join(dir, 'assets'));
  await writeFile(join(dir, 'assets', 'console-a1.js'), script);
  await writeFile(join(dir, 'assets', 'console-b2.css'), style);
  for (const [name, content] of Object.entries(options.extraFiles ?? {})) await writeFile(join(dir, 'assets', name), content);
  const integrity = options.scriptIntegrity ?? integrityOf(script);
  await writeFile(
    join(dir, 'index.html'),
    options.index ??
      `<!doctype html><html><head><title>Assist Relay</title>
<script type="module" crossorigin src="/assets/console-a1.js" integrity="${integrity}"></script>
<link rel="stylesheet" crossorigin href="/assets/console-b2.css" integrity="${integrityOf(style)}">
</head><body><main id="app"></main></body></html>`,
  );
}

describe('loadConsoleSite', () => {
  it('serves the page under a policy that allows only its own bundle and the relay', async () => {
    await writeBuild();
    const { statusCode, headers, body } = loadConsoleSite(dir).page(WEBSOCKET_URL);
    expect(statusCode).toBe(200);
    expect(body).toContain('src="/assets/console-a1.js"');
    expect(body).not.toContain('assist-invitation');
    expect(headers['content-security-policy']).toBe(consolePolicy(WEBSOCKET_URL));
    expect(headers).toMatchObject({
      'content-type': 'text/html; charset=utf-8',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-store',
      'x-frame-options': 'DENY',
    });
  });

  it('writes the policy: scripts and style sheets from the relay, connections to it and its WebSocket origin only, no inline script', () => {
    const directives = new Map(consolePolicy(WEBSOCKET_URL).split('; ').map((directive) => [directive.split(' ')[0], directive]));
    expect(directives.get('default-src')).toBe("default-src 'none'");
    expect(directives.get('script-src')).toBe("script-src 'self'");
    expect(directives.get('style-src')).toBe("style-src 'self'");
    expect(directives.get('connect-src')).toBe("connect-src 'self' wss://abc123.execute-api.eu-west-1.amazonaws.com");
    expect(directives.get('frame-ancestors')).toBe("frame-ancestors 'none'");
    expect(directives.get('base-uri')).toBe("base-uri 'none'");
    expect(directives.get('form-action')).toBe("form-action 'none'");
    expect(directives.get('require-trusted-types-for')).toBe("require-trusted-types-for 'script'");
  });

  it('serves the built page as it is, for every path: it says nothing about any invitation', async () => {
    await writeBuild();
    const site = loadConsoleSite(dir);
    expect(site.page(WEBSOCKET_URL).body).toBe(await readFile(join(dir, 'index.html'), 'utf8'));
    expect(site.page(WEBSOCKET_URL)).toEqual(site.page(WEBSOCKET_URL));
  });

  it('serves the files it read, with long caching (their names change with their content), and nothing else', async () => {
    await writeBuild();
    const site = loadConsoleSite(dir);
    expect(site.asset('/assets/console-a1.js')).toEqual({
      statusCode: 200,
      headers: {
        'content-type': 'text/javascript; charset=utf-8',
        'x-content-type-options': 'nosniff',
        'cache-control': 'public, max-age=31536000, immutable',
        'cross-origin-resource-policy': 'same-origin',
        vary: 'accept-encoding',
      },
      body: script,
    });
    // Compressed for a client that accepts gzip (API Gateway's HTTP API does not compress Lambda's answers).
    const compressed = site.asset('/assets/console-a1.js', 'gzip, deflate, br')!;
    expect(compressed).toMatchObject({ isBase64Encoded: true, headers: { 'content-encoding': 'gzip', vary: 'accept-encoding' } });
    expect(gunzipSync(Buffer.from(compressed.body, 'base64')).toString('utf8')).toBe(script);
    expect(site.asset('/assets/console-a1.js', 'gzip;q=0, identity')).not.toHaveProperty('isBase64Encoded');
    expect(site.asset('/assets/console-a1.js', '*')?.headers['content-encoding']).toBe('gzip');
    expect(site.asset('/assets/console-b2.css')?.headers['content-type']).toBe('text/css; charset=utf-8');
    for (const path of ['/assets/', '/assets/../index.html', '/assets/console-a1.js/', '/assets/CONSOLE-A1.JS', '/index.html', '/assets/%2e%2e/index.html']) {
      expect(site.asset(path), path).toBeUndefined();
    }
  });

  it('refuses a build whose script does not match its integrity', async () => {
    await writeBuild({ scriptIntegrity: integrityOf('something else') });
    expect(refusal(ConsoleSiteError, () => loadConsoleSite(dir)).code).toBe('integrity-mismatch');
  });

  it('refuses a page that loads a file without integrity, or one the build did not produce', async () => {
    await writeBuild({ index: '<html><head><script type="module" src="/assets/console-a1.js"></script></head></html>' });
    expect(refusal(ConsoleSiteError, () => loadConsoleSite(dir)).message).toContain('without an integrity attribute');
    await writeFile(join(dir, 'index.html'), `<html><head><script type="module" src="/assets/gone.js" integrity="${integrityOf(script)}"></script></head></html>`);
    expect(refusal(ConsoleSiteError, () => loadConsoleSite(dir)).code).toBe('missing-asset');
    await writeFile(join(dir, 'index.html'), '<html><head><title>no script</title></head></html>');
    expect(refusal(ConsoleSiteError, () => loadConsoleSite(dir)).code).toBe('missing-asset');
  });

  it('refuses files it could not serve as text with the right type', async () => {
    await writeBuild({ extraFiles: { 'logo.png': 'not really a png' } });
    const error = refusal(ConsoleSiteError, () => loadConsoleSite(dir));
    expect(error.code).toBe('unexpected-file');
    expect(error.message).toContain('logo.png');
  });

  it('says the console is not built when index.html is missing; consoleSiteIfBuilt then has none', () => {
    expect(refusal(ConsoleSiteError, () => loadConsoleSite(dir)).code).toBe('not-built');
    expect(consoleSiteIfBuilt(dir)).toBeUndefined();
  });

  it('consoleSiteIfBuilt still refuses a broken build rather than serving without it', async () => {
    await writeBuild({ scriptIntegrity: integrityOf('tampered') });
    expect(refusal(ConsoleSiteError, () => consoleSiteIfBuilt(dir)).code).toBe('integrity-mismatch');
  });
});
