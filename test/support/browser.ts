import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Debian's chromium, installed by the project's test set-up (.ci/run); playwright-core downloads no browser. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

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

/** Launches chromium, or fails with a sentence that says how to install it (never a silent skip). */
export async function launchChromium(extraArgs: string[] = [], executable = CHROMIUM): Promise<Browser> {
  if (!existsSync(executable)) {
    throw new Error(
      `The browser tests need Chromium at ${executable}, and it is not there. Install it with ` +
        '"apt-get install -y chromium" (Debian; .ci/run does this), or set CHROMIUM_PATH to a Chromium binary.',
    );
  }
  return chromium.launch({
    executablePath: executable,
    args: [...CHROMIUM_ARGS, ...extraArgs],
    headless: true,
  });
}
