import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { subresourceIntegrity } from './build/subresource-integrity.js';

// The web console: plain TypeScript and DOM, bundled into one script and one stylesheet with
// hashed names and integrity attributes (web/README.md). The relay serves the result (web/dist).
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  // Pages live at /, /help and /join/<nameplate>: asset URLs must not depend on the page's path.
  base: '/',
  publicDir: false,
  logLevel: 'warn',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // One entry, no dynamic imports: the polyfill would be inline script the policy forbids.
    modulePreload: { polyfill: false },
    // Everything a file of its own: no data: URLs for the policy to allow.
    assetsInlineLimit: 0,
    reportCompressedSize: false,
    // One script by design (above): ~500 KB, ~140 KB as served gzipped; the advice to split it would only confuse `npm start`.
    chunkSizeWarningLimit: 1024,
    rollupOptions: { output: { entryFileNames: 'assets/console-[hash].js', assetFileNames: 'assets/console-[hash][extname]' } },
  },
  plugins: [subresourceIntegrity()],
});
