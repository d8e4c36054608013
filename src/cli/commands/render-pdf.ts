import { launchChromium } from '../chromium.js';

/**
 * The rendered HTML printed to PDF by headless Chromium, the same engine a jurist's browser
 * would print with, so the print stylesheet (A4, page breaks per article, signature blocks kept
 * whole) decides the layout. The page is set from a string: the document has no external
 * assets, and every request the page might still make is refused.
 */
export async function htmlToPdf(html: string, env: NodeJS.ProcessEnv): Promise<Buffer> {
  const browser = await launchChromium([], env);
  try {
    const page = await browser.newPage();
    await page.route('**/*', (route) => route.abort());
    await page.setContent(html, { waitUntil: 'load' });
    const pdf = await page.pdf({
      format: 'A4',
      preferCSSPageSize: true,
      displayHeaderFooter: true,
      headerTemplate: '<span></span>',
      footerTemplate:
        '<div style="font-size:8pt;width:100%;text-align:center;color:#444">' +
        '<span class="pageNumber"></span> / <span class="totalPages"></span></div>',
    });
    return Buffer.from(pdf);
  } finally {
    await browser.close();
  }
}
