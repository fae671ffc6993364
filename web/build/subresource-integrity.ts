import { createHash } from 'node:crypto';
import type { Plugin } from 'vite';

// Vite writes <script src> and <link href> for the bundle into index.html but no integrity
// attribute; this adds one to each, so a page served with the bundle's hashes refuses a bundle
// changed anywhere after the build (a cache, a CDN, a tampered file).

/** `sha384-…` of the bytes, as browsers compare them. */
export function integrityOf(content: string | Uint8Array): string {
  return `sha384-${createHash('sha384').update(content).digest('base64')}`;
}

/** `<script … src="/x">` and `<link … href="/x">` tags: the whole tag, then the URL. */
const BUNDLE_REFERENCE = /<(?:script|link)\b[^>]*?\s(?:src|href)="([^"]+)"[^>]*>/g;

export function subresourceIntegrity(): Plugin {
  return {
    name: 'assist-subresource-integrity',
    apply: 'build',
    enforce: 'post',
    generateBundle(_options, bundle) {
      for (const page of Object.values(bundle)) {
        if (page.type !== 'asset' || !page.fileName.endsWith('.html')) continue;
        page.source = String(page.source).replace(BUNDLE_REFERENCE, (tag, url: string) => {
          const file = bundle[url.replace(/^\//, '')];
          if (!file) throw new Error(`index.html refers to ${url}, which is not in the bundle`);
          const integrity = integrityOf(file.type === 'chunk' ? file.code : file.source);
          return tag.replace(/>$/, ` integrity="${integrity}">`);
        });
      }
    },
  };
}
