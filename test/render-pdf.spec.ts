import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../src/cli/program.js';
import { pdfText } from './support/pdf-text.js';

/**
 * `convenant render --pdf` prints the document with the Chromium the UI tests use (CHROME_PATH,
 * a system Chromium, else @sparticuz/chromium from npm ci). No browser is a failure here, never
 * a skip: npm ci installs one.
 */
describe('convenant render --pdf', () => {
  const dir = mkdtempSync(join(tmpdir(), 'convenant-pdf-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('prints the Twente example as a PDF with its articles, parties and named signatories', async () => {
    const out = join(dir, 'vh-twente.pdf');
    const { code, stderr } = await run(['render', 'policies/vh-twente', '--pdf', out]);
    expect([code, stderr]).toEqual([0, `Wrote ${out}\n`]);
    const pdf = readFileSync(out);
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    const { pages, text } = pdfText(pdf);
    // Each article starts a page (print stylesheet), so at least one page per article.
    expect(pages).toBeGreaterThanOrEqual(15);
    // Chromium breaks lines without a space glyph, so words are compared without white space.
    const flat = text.replace(/\s+/g, '');
    for (const words of [
      'Voorbeeldconvenant gegevensdeling Zorg- en Veiligheidshuis Twente',
      'Overwegingen',
      'Gezamenlijke verwerkingsverantwoordelijkheid (AVG art. 26)',
      '12. Datalekken',
      '14. Ondertekening',
      'mr. E. (Eline) Scholten',
    ])
      expect(flat).toContain(words.replace(/\s+/g, ''));
  }, 120_000);

  it('with --format pdf, wants a file to write to', async () => {
    const { code, stderr } = await run(['render', 'policies/vh-twente', '--format', 'pdf']);
    expect(code).toBe(2);
    expect(stderr).toContain('A PDF is written to a file');
  });

  it('says what to set when there is no browser, instead of a stack trace', async () => {
    const out = join(dir, 'none.pdf');
    const { code, stderr } = await run(['render', 'policies/vh-twente', '--pdf', out], {
      CHROME_PATH: '/nonexistent/chromium',
    });
    expect(code).toBe(1);
    expect(stderr).toContain(
      'Cannot print a PDF: CHROME_PATH is /nonexistent/chromium, and there is no browser there',
    );
    expect(stderr).not.toMatch(/\n\s+at /);
  });
});
