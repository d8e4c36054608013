import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Browser } from 'playwright-core';

/**
 * Finding and starting a headless Chromium, for `convenant render --pdf` and the UI tests:
 * CHROME_PATH when set (and then it must exist), else a system Chromium, else the one inside the
 * `@sparticuz/chromium` package, so `npm ci` is all a machine needs (playwright-core downloads no
 * browser). Both packages are development dependencies: a production install that lacks them
 * gets an error saying what to install or set, never a stack trace.
 */

const execFileAsync = promisify(execFile);

/** Chromium as installed by the system, tried in this order when CHROME_PATH is not set. */
export const SYSTEM_CHROMIUMS = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** No browser could be found or started; the message says what to install or set. */
export class BrowserUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BrowserUnavailableError';
  }
}

const INSTALL_HINT =
  'Set CHROME_PATH to a Chromium or Chrome binary, install one as /usr/bin/chromium, or install the ' +
  'packages playwright-core and @sparticuz/chromium (npm install playwright-core @sparticuz/chromium).';

export async function chromiumExecutable(
  env: NodeJS.ProcessEnv = process.env,
  systemCandidates: readonly string[] = SYSTEM_CHROMIUMS,
): Promise<string> {
  const chosen = env.CHROME_PATH;
  if (chosen) {
    if (!existsSync(chosen)) {
      throw new BrowserUnavailableError(
        `CHROME_PATH is ${chosen}, and there is no browser there. Point it at a Chromium or Chrome ` +
          'binary, or unset it to use the Chromium that npm ci installs (@sparticuz/chromium).',
      );
    }
    return chosen;
  }
  const system = systemCandidates.find((candidate) => existsSync(candidate));
  return system ?? (await bundledChromium());
}

/** The folder of an installed package, found from this module (so any working directory works). */
function packageDir(name: string): string | undefined {
  try {
    const entry = createRequire(import.meta.url).resolve(name);
    const marker = `${path.sep}node_modules${path.sep}${name.split('/').join(path.sep)}`;
    const at = entry.lastIndexOf(marker);
    return at < 0 ? undefined : entry.slice(0, at + marker.length);
  } catch {
    return undefined;
  }
}

/**
 * @sparticuz/chromium ships a brotli-compressed headless Chromium and unpacks it into the system's
 * temporary folder, reusing whatever `chromium` it finds there, whatever its version, and writing
 * it in place, so a second process can start a half-written binary. We unpack into a staging
 * folder of our own (TMPDIR) and move it under node_modules/.cache, named by the package's
 * version: one unpack per install (about 7 s), and `npm ci` clears it.
 */
async function bundledChromium(): Promise<string> {
  const dir = packageDir('@sparticuz/chromium');
  if (!dir) throw new BrowserUnavailableError(`No browser found. ${INSTALL_HINT}`);
  const { version } = JSON.parse(await readFile(path.join(dir, 'package.json'), 'utf8')) as {
    version: string;
  };
  const cache = path.join(dir, '..', '..', '.cache', 'convenant-chromium');
  const target = path.join(cache, version);
  const binary = path.join(target, 'chromium');
  if (existsSync(binary)) return binary;

  await mkdir(cache, { recursive: true });
  const staging = await mkdtemp(path.join(cache, `${version}-unpacking-`));
  // In a process of its own: under Jest, process.env is the sandbox's copy and os.tmpdir() in the
  // package would not see TMPDIR.
  try {
    await execFileAsync(
      process.execPath,
      ['--input-type=module', '-e', "await (await import('@sparticuz/chromium')).default.executablePath()"],
      { cwd: path.join(dir, '..', '..', '..'), env: { ...process.env, NODE_OPTIONS: '', TMPDIR: staging } },
    );
    await rename(staging, target);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    // A rename that failed because another process unpacked it first: use theirs.
    if (!existsSync(binary)) throw error;
  }
  return binary;
}

/** Launches Chromium (see chromiumExecutable), or fails with a sentence that says what to do. */
export async function launchChromium(
  extraArgs: string[] = [],
  env: NodeJS.ProcessEnv = process.env,
): Promise<Browser> {
  let playwright: typeof import('playwright-core');
  try {
    playwright = await import('playwright-core');
  } catch {
    throw new BrowserUnavailableError(`playwright-core is not installed. ${INSTALL_HINT}`);
  }
  return playwright.chromium.launch({
    executablePath: await chromiumExecutable(env),
    args: [...CHROMIUM_ARGS, ...extraArgs],
    headless: true,
  });
}
