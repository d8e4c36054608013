import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { chromiumExecutable, launchChromium } from './support/browser.js';

describe('the browser for the UI tests', () => {
  it('fails with a sentence saying what to do when CHROME_PATH names no file, instead of skipping', async () => {
    await expect(launchChromium([], { CHROME_PATH: '/nonexistent/chromium' })).rejects.toThrow(
      'CHROME_PATH is /nonexistent/chromium, and there is no browser there. Point it at a Chromium or Chrome binary, or unset it',
    );
  });

  it('prefers CHROME_PATH, then a system Chromium', async () => {
    await expect(chromiumExecutable({ CHROME_PATH: process.execPath }, ['/nonexistent/a'])).resolves.toBe(
      process.execPath,
    );
    await expect(chromiumExecutable({}, ['/nonexistent/a', process.execPath])).resolves.toBe(
      process.execPath,
    );
  });

  it('without either, unpacks the Chromium that npm ci installed, once per version', async () => {
    const binary = await chromiumExecutable({}, []);
    expect(path.relative(process.cwd(), binary)).toMatch(
      /^node_modules\/\.cache\/convenant-chromium\/[\d.]+\/chromium$/,
    );
    accessSync(binary, constants.X_OK);
    await expect(chromiumExecutable({}, [])).resolves.toBe(binary);
  }, 120_000);
});
