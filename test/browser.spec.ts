import { launchChromium } from './support/browser.js';

describe('launchChromium', () => {
  it('fails with a sentence saying how to install Chromium when it is missing, instead of skipping', async () => {
    await expect(launchChromium([], '/nonexistent/chromium')).rejects.toThrow(
      'The browser tests need Chromium at /nonexistent/chromium, and it is not there. Install it with "apt-get install -y chromium"',
    );
  });
});
