import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Builds the officers' page into dist/web. With --if-changed (what `npm start` uses) it builds
 * only when a file under web/ or the locked packages is newer than the last build: Vite has no
 * incremental build, and a build costs seconds that a warm start should not pay.
 */
const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.dirname(here);
const output = path.join(root, 'dist', 'web', 'index.html');

function newestInput(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestInput(file) : statSync(file).mtimeMs);
  }
  return newest;
}

function upToDate() {
  let built;
  try {
    built = statSync(output).mtimeMs;
  } catch {
    return false;
  }
  const inputs = Math.max(newestInput(here), statSync(path.join(root, 'package-lock.json')).mtimeMs);
  return inputs < built;
}

if (!(process.argv.includes('--if-changed') && upToDate())) {
  const { build } = await import('vite');
  await build({ configFile: path.join(here, 'vite.config.js'), logLevel: 'warn' });
}
