import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = path.dirname(fileURLToPath(import.meta.url));

/**
 * The privacy officers' page, built into dist/web and served by the gateway at /fg/.
 * Vite 8 transforms TSX with Oxc (automatic JSX runtime), so a production build needs no React
 * plugin. No inline scripts or styles are emitted: the gateway's CSP allows only 'self'.
 */
export default defineConfig({
  root: here,
  base: '/fg/',
  publicDir: false,
  build: {
    outDir: path.join(here, '../dist/web'),
    emptyOutDir: true,
    // Never turn assets into data: URLs inside scripts or styles; everything is a file from 'self'.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
    target: 'es2022',
  },
});
