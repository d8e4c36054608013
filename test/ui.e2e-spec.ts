// The callbacks passed to page.evaluate run in the browser and use its globals.
/// <reference lib="dom" />
import { jest } from '@jest/globals';
import axe from 'axe-core';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import request from 'supertest';
import { freePort } from '../src/common/free-port.js';
import { OFFICER_PAGE_CSP } from '../src/web/officer-page.js';
import { PolicyRegistry } from '../src/kernel/policy.registry.js';
import { EXAMPLE_CONVENANTS, REAL_CONVENANT, startTestApp, type TestApp } from './support/app.js';
import { launchChromium } from './support/browser.js';
import { officerOf } from './support/convenant-choices.js';
import { makeDemoTraffic, type DemoTraffic } from './support/demo-traffic.js';
import { accessTokenFor, type Who } from './support/tokens.js';

/**
 * The privacy officers' page in a real browser (Chromium driven by playwright-core, see support/browser.ts)
 * against the real gateway on the seeded demo, over loopback HTTP: sign in with a real officer
 * token, filter the log, open an entry and a subject report, judge an emergency access, verify
 * the chain. Every check compares what the page shows with what the API answers. It runs on
 * every example convenant, with partners taken from the demo traffic and the officer from the
 * convenant. UPDATE_SCREENSHOTS=1 (npm run screenshots) also writes docs/screenshots/*.png, from
 * the Rotterdam demo, which the docs show.
 */

const SCREENSHOTS = path.resolve('docs/screenshots');
const UPDATE = process.env.UPDATE_SCREENSHOTS === '1';
const SCREENSHOT_CONVENANT = path.basename(REAL_CONVENANT);

/** In the page: the focused element (id, or its text) and whether it shows a focus outline. */
function focusedWithRing(): string {
  const el = document.activeElement as HTMLElement;
  const style = getComputedStyle(el);
  const ring = style.outlineStyle !== 'none' && style.outlineWidth !== '0px';
  return `${el.id || el.textContent?.trim() || el.tagName}|${ring}`;
}

interface Timeline {
  total: number;
  buckets: { key: string; total: number; partners: { partner: string | null; total: number }[] }[];
}

interface Event {
  seq: string;
  partner: string | null;
  action: string;
  outcome: string;
  ruleId: string | null;
  policyVersion: string | null;
  dataSubjectRef: string | null;
}

// A browser step on a busy 2-core machine (jest runs spec files side by side) can take a while.
jest.setTimeout(90_000);

describe.each(EXAMPLE_CONVENANTS)('officers page (chromium) on $name', ({ name, dir }) => {
  let t: TestApp;
  let base: string;
  let browser: Browser;
  let page: Page;
  let officerToken: string;
  let officer: string;
  let officerWho: Who;
  let traffic: DemoTraffic;
  const problems: string[] = [];
  const requested: string[] = [];
  const http = () => request(t.app.getHttpServer());

  /** The view as a person sees it: the window, or the whole page when it is short enough to read whole. */
  async function shot(file: string, fullPage = false): Promise<void> {
    if (!UPDATE || name !== SCREENSHOT_CONVENANT) return;
    await page.screenshot({ path: path.join(SCREENSHOTS, `${file}.png`), fullPage });
  }

  /** axe-core's WCAG 2.x A/AA rules (labels, contrast, names, landmarks) on the page as it is. */
  async function accessibilityViolations(): Promise<string[]> {
    // evaluate runs outside the page's CSP, which (rightly) refuses injected scripts.
    await page.evaluate(axe.source);
    const results = await page.evaluate(async () => {
      const run = (globalThis as unknown as { axe: typeof axe }).axe.run;
      const r = await run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa'] } });
      return r.violations.map(
        (v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`,
      );
    });
    return results;
  }

  async function waitForIdle(): Promise<void> {
    await page.locator('.loading').first().waitFor({ state: 'detached' });
  }

  /** How many entries GET /v1/audit/events gives for a filter, paged to the end. */
  async function eventCount(filter: Record<string, string>): Promise<number> {
    let count = 0;
    let cursor: string | null = null;
    do {
      const res = await http()
        .get('/v1/audit/events')
        .query({ ...filter, limit: '200', ...(cursor ? { cursor } : {}) })
        .set('authorization', officer);
      const body = res.body as { items: unknown[]; nextCursor: string | null };
      count += body.items.length;
      cursor = body.nextCursor;
    } while (cursor);
    return count;
  }

  /** What the page's chart shows: the caption's total, the legend's counts, the table's non-empty rows. */
  async function chartFigures(): Promise<{ caption: number; legend: number; rows: number[] }> {
    const chart = page.getByRole('figure');
    await chart.locator('figcaption').waitFor();
    const caption = Number(
      /(\d+) toegangen/.exec((await chart.locator('figcaption').textContent()) ?? '')?.[1],
    );
    const legend = (await chart.locator('.legend-count').allTextContents()).reduce(
      (a, n) => a + Number(n),
      0,
    );
    const rows = (await chart.locator('details tbody tr td:last-child').allTextContents())
      .map(Number)
      .filter((n) => n > 0);
    return { caption, legend, rows };
  }

  beforeAll(async () => {
    // The browser first: a wrong CHROME_PATH fails here, before anything else starts.
    // Dutch date and time widgets, as an officer in a Dutch region has them.
    browser = await launchChromium(['--lang=nl-NL']);
    t = await startTestApp({
      policyDir: dir,
      env: { DEMO: 'true', CHECKPOINT_EVERY: '25', SEAL_INTERVAL_MS: '100' },
    });
    const port = await freePort();
    await t.app.listen({ port, host: '127.0.0.1' });
    base = `http://127.0.0.1:${port}`;
    traffic = await makeDemoTraffic(t);
    officerWho = officerOf(t.app.get(PolicyRegistry).current(), 'fg-officer-1');
    officerToken = await accessTokenFor(t, officerWho);
    officer = `Bearer ${officerToken}`;
    if (UPDATE) await mkdir(SCREENSHOTS, { recursive: true });
    const context = await browser.newContext({
      viewport: { width: 1280, height: 900 },
      locale: 'nl-NL',
      timezoneId: 'Europe/Amsterdam',
    });
    page = await context.newPage();
    // Fail within the test's own time, with playwright's message of what it waited for.
    page.setDefaultTimeout(20_000);
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('request', (req) => requested.push(req.url()));
    page.on('response', (res) => {
      if (res.status() >= 400 && res.status() !== 401) problems.push(`${res.status()} ${res.url()}`);
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('serves the page at /fg/ with a strict CSP, and every page path falls back to it', async () => {
    const res = await http().get('/fg/');
    expect(res.status).toBe(200);
    expect(res.headers['content-security-policy']).toBe(OFFICER_PAGE_CSP);
    expect(res.text).toContain('<div id="root">');
    // No inline script or style in the built page.
    expect(res.text).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(res.text).not.toMatch(/<style|style=/);
    const deep = await http().get('/fg/doorbraken');
    expect(deep.status).toBe(200);
    expect(deep.text).toBe(res.text);
    expect((await http().get('/fg/assets/missing.js')).status).toBe(404);
    expect((await http().get('/fg')).headers.location).toBe('/fg/');
  });

  it('refuses a wrong or non-officer token with a sentence, and signs in by keyboard with an officer token', async () => {
    await page.goto(`${base}/fg/`);
    await page.getByRole('heading', { name: 'Aanmelden' }).waitFor();
    expect(await accessibilityViolations()).toEqual([]);
    await shot('sign-in', true);

    const token = page.getByLabel('Toegangstoken');
    await token.fill('not-a-token');
    await page.getByRole('button', { name: 'Aanmelden' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toContain('Meld u opnieuw aan');

    await token.fill(await accessTokenFor(t, traffic.lead));
    await page.getByRole('button', { name: 'Aanmelden' }).click();
    await page.getByText('niet bij toezicht').waitFor();
    await expect(page.getByRole('alert').textContent()).resolves.toContain(
      `Dit token hoort bij ${traffic.lead.partner} met doel ${traffic.lead.purpose}`,
    );

    // Keyboard only: the skip link, the language switch, then the token field, each with a visible focus ring.
    await page.reload();
    await page.getByRole('heading', { name: 'Aanmelden' }).waitFor();
    const focused: string[] = [];
    for (let i = 0; i < 3; i++) {
      await page.keyboard.press('Tab');
      focused.push(await page.evaluate(focusedWithRing));
    }
    expect(focused).toEqual(['Naar de inhoud|true', 'English|true', 'token|true']);
    await page.keyboard.type(officerToken);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Toegangslog', level: 1 }).waitFor();
    await page.getByText(`Aangemeld als fg-officer-1 (${officerWho.partner})`).waitFor();

    // The token lives in sessionStorage only, never in a URL or in localStorage.
    expect(await page.evaluate(() => sessionStorage.getItem('convenant.fg.token'))).toBe(officerToken);
    expect(await page.evaluate(() => localStorage.length)).toBe(0);
    expect(requested.filter((url) => url.includes(officerToken))).toEqual([]);
  });

  it('filters the log: the rows shown are exactly what the API returns for that filter', async () => {
    await waitForIdle();
    expect(await accessibilityViolations()).toEqual([]);
    // The chart counts the whole filter, not the 200 rows loaded. "Tot" this minute, so the
    // officer's own audit entries written from now on stay outside the compared range.
    const minute = Math.floor(Date.now() / 60_000) * 60_000;
    const until = new Date(minute).toLocaleString('sv-SE', { timeZone: 'Europe/Amsterdam' }).slice(0, 16);
    await page.getByLabel('Tot').fill(until.replace(' ', 'T'));
    await page.getByRole('button', { name: 'Zoeken' }).click();
    await waitForIdle();
    const to = new Date(minute).toISOString();
    const whole = await eventCount({ to });
    const all = (
      await http().get('/v1/audit/timeline').query({ to, bucket: 'day' }).set('authorization', officer)
    ).body as Timeline;
    expect(await page.locator('table.log tbody tr').count()).toBe(200);
    expect(whole).toBeGreaterThan(200);
    expect(all.total).toBe(whole);
    await expect(chartFigures()).resolves.toEqual({
      caption: whole,
      legend: whole,
      rows: all.buckets.map((b) => b.total),
    });
    await page.getByText('regels geladen; er zijn er meer').waitFor();
    await page.getByRole('button', { name: 'Wissen' }).click();
    // The filter form by keyboard: fields in reading order, each with a visible focus ring (from the
    // case field on: Tab steps through the date widgets' own day, month and time parts first).
    await page.getByLabel('Casus (id)').focus();
    const order: string[] = [];
    for (let i = 0; i < 6; i++) {
      order.push(await page.evaluate(focusedWithRing));
      await page.keyboard.press('Tab');
    }
    expect(order).toEqual([
      'f-case|true',
      'f-partner|true',
      'f-purpose|true',
      'f-outcome|true',
      'f-emergency|true',
      'Zoeken|true',
    ]);
    await page.getByLabel('Uitkomst').selectOption('denied');
    await page.getByLabel('Partner', { exact: true }).focus();
    await page.keyboard.type(traffic.tryer.partner);
    await page.keyboard.press('Enter');
    await waitForIdle();
    await page.waitForFunction(
      (partner) =>
        [...document.querySelectorAll('table.log td.partner')].every((td) => td.textContent === partner),
      traffic.tryer.partner,
    );

    const rows = page.locator('table.log tbody tr');
    const shown = await rows.evaluateAll((trs) =>
      trs.map((tr) => ({
        seq: tr.getAttribute('data-seq'),
        partner: tr.querySelector('.partner')?.textContent,
        outcome: tr.querySelector('.outcome')?.textContent,
      })),
    );
    const api = await http()
      .get('/v1/audit/events')
      .query({ partner: traffic.tryer.partner, outcome: 'denied', limit: '200' })
      .set('authorization', officer);
    const expected = (api.body as { items: Event[] }).items;
    expect(expected.length).toBeGreaterThan(0);
    expect(shown).toEqual(
      expected.map((e) => ({ seq: e.seq, partner: traffic.tryer.partner, outcome: 'geweigerd' })),
    );
    // The timeline counts the same rows: per day for these two weeks, all of them the third partner's, as the
    // timeline endpoint counts them for the same filter.
    const chart = page.getByRole('figure');
    await chart.getByText('Toegangen per dag en per partner').waitFor();
    await expect(chart.locator('.legend li').allTextContents()).resolves.toEqual([
      `${traffic.tryer.partner} ${expected.length}`,
    ]);
    const counted = (
      await http()
        .get('/v1/audit/timeline')
        .query({ partner: traffic.tryer.partner, outcome: 'denied', bucket: 'day' })
        .set('authorization', officer)
    ).body as Timeline;
    expect(counted.total).toBe(await eventCount({ partner: traffic.tryer.partner, outcome: 'denied' }));
    const figures = await chartFigures();
    expect(figures).toEqual({
      caption: counted.total,
      legend: counted.total,
      rows: counted.buckets.map((b) => b.total),
    });
    expect(figures.rows.length).toBeGreaterThan(7);
    expect(counted.buckets.every((b) => b.partners.every((p) => p.partner === traffic.tryer.partner))).toBe(
      true,
    );
    // Every refused access is counted as denied in the table too.
    const denied = await chart.locator('details tbody tr td:nth-last-child(2)').allTextContents();
    expect(denied.reduce((sum, n) => sum + Number(n), 0)).toBe(expected.length);
    await shot('toegangslog');
  });

  it('counts the chart by hour when the filter is one day, says when nothing matches, and why it cannot count', async () => {
    await page.getByRole('button', { name: 'Wissen' }).click();
    // Today's refusals: the third partner tried cases it does not take part in; no officer query adds one.
    const now = new Date().toLocaleString('sv-SE', { timeZone: 'Europe/Amsterdam' });
    const today = `${now.slice(0, 10)}T00:00`;
    await page.getByLabel('Vanaf').fill(today);
    await page.getByLabel('Uitkomst').selectOption('denied');
    await page.getByRole('button', { name: 'Zoeken' }).click();
    await waitForIdle();
    // The browser runs in Amsterdam time: it says which instant local midnight is.
    const from = await page.evaluate((local) => new Date(local).toISOString(), today);
    const hours = (
      await http()
        .get('/v1/audit/timeline')
        .query({ from, outcome: 'denied', bucket: 'hour' })
        .set('authorization', officer)
    ).body as Timeline;
    expect(hours.total).toBe(await eventCount({ from, outcome: 'denied' }));
    expect(hours.total).toBeGreaterThan(0);
    const chart = page.getByRole('figure');
    await chart.getByText('Toegangen per uur en per partner').waitFor();
    await expect(chartFigures()).resolves.toEqual({
      caption: hours.total,
      legend: hours.total,
      rows: hours.buckets.map((b) => b.total),
    });

    await page.getByRole('button', { name: 'Wissen' }).click();
    await page.getByLabel('Partner', { exact: true }).fill('niemand');
    await page.getByRole('button', { name: 'Zoeken' }).click();
    await waitForIdle();
    await page.getByText('Geen toegangen met deze filters, dus geen grafiek.').waitFor();
    await page.getByText('Geen toegangen gevonden met deze filters.').waitFor();

    // Six years by day is more than the gateway counts at once: the list still loads, the chart says why.
    const before = problems.length;
    await page.getByRole('button', { name: 'Wissen' }).click();
    await page.getByLabel('Vanaf').fill('2020-01-01T00:00');
    await page.getByLabel('Tot').fill(`${now.slice(0, 10)}T23:59`);
    await page.getByRole('button', { name: 'Zoeken' }).click();
    await waitForIdle();
    const alert = chart.getByRole('alert');
    await expect(alert.textContent()).resolves.toMatch(
      /^De grafiek kon niet worden geladen\. De aanvraag klopt niet: This range gives \d+ buckets by day; at most 400/,
    );
    expect(await page.locator('table.log tbody tr').count()).toBe(200);
    expect(await accessibilityViolations()).toEqual([]);
    // That refusal is this step's own; the last test checks no other request failed.
    const refused = problems.splice(before);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.every((p) => /400/.test(p))).toBe(true);
  });

  it('opens an entry and shows the rule and policy version that decided it', async () => {
    const caseId = traffic.caseIds[0]!;
    await page.getByRole('button', { name: 'Wissen' }).click();
    await page.getByLabel('Casus (id)').fill(caseId);
    await page.getByLabel('Partner', { exact: true }).fill(traffic.lead.partner);
    await page.getByLabel('Uitkomst').selectOption('allowed');
    await page.getByRole('button', { name: 'Zoeken' }).click();
    await waitForIdle();
    const api = await http()
      .get('/v1/audit/events')
      .query({ caseId, partner: traffic.lead.partner, outcome: 'allowed', limit: '200' })
      .set('authorization', officer);
    const items = (api.body as { items: Event[] }).items;
    expect(await page.locator('table.log tbody tr').count()).toBe(items.length);
    const entry = items.find((e) => e.action === 'read' && e.dataSubjectRef === traffic.subjectRef);
    expect(entry).toBeDefined();
    expect(entry!.ruleId).not.toBeNull();

    await page.getByRole('button', { name: `Bekijk regel ${entry!.seq}` }).click();
    const detail = page.getByRole('complementary', { name: `Regel ${entry!.seq}` });
    await detail.waitFor();
    const value = (name: string) =>
      detail.locator('dl > div', { has: page.locator('dt', { hasText: name }) }).locator('dd');
    await expect(value('Beslissende regel').textContent()).resolves.toBe(entry!.ruleId);
    await expect(value('Convenantversie').textContent()).resolves.toBe(entry!.policyVersion);
    await expect(value('Betrokkene').textContent()).resolves.toBe(traffic.subjectRef);
    // Focus moves to the detail, for keyboard and screen reader users.
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('entry-title');
    if (UPDATE) {
      // The whole view at once: filters, timeline, the selected row and its detail.
      await page.setViewportSize({ width: 1280, height: 1500 });
      await page.evaluate(() => scrollTo(0, 0));
      await shot('toegangslog-detail');
      await page.setViewportSize({ width: 1280, height: 900 });
    }
  });

  it("opens the subject report from the entry: it lists the person's accesses as the API does, and no URL names them", async () => {
    await page.getByRole('button', { name: 'Overzicht voor deze betrokkene' }).click();
    await page.getByRole('heading', { name: 'Betrokkene', level: 1 }).waitFor();
    await page.locator('table.subject').waitFor();
    const shownActions = await page.locator('table.subject tbody tr td:nth-child(6)').allTextContents();

    const api = await http()
      .post('/v1/audit/subject-report')
      .set('authorization', officer)
      .send({ subjectRef: traffic.subjectRef });
    const accesses = (api.body as { accesses: { action: string; partner: { id: string } | null }[] })
      .accesses;
    // The officer's own report requests are accesses too; compare the partners' accesses.
    const partners = accesses.filter((a) => a.action !== 'audit');
    expect(partners.length).toBeGreaterThanOrEqual(2);
    expect(shownActions.filter((a) => a !== 'toezicht')).toHaveLength(partners.length);
    await expect(page.locator('.summary').textContent()).resolves.toContain(traffic.subjectRef);
    expect(page.url()).toBe(`${base}/fg/betrokkene`);
    expect(requested.filter((url) => url.includes(traffic.subjectRef))).toEqual([]);
    await shot('betrokkene');
  });

  it('records a judgement on an emergency access: it leaves the queue, and the API agrees', async () => {
    await page.getByRole('link', { name: 'Doorbraken' }).click();
    await page.getByRole('heading', { name: 'Doorbraken', level: 1 }).waitFor();
    await waitForIdle();
    const seqs = await page
      .locator('ul.queue > li')
      .evaluateAll((lis) => lis.map((li) => li.getAttribute('data-seq')));
    expect(seqs).toEqual(traffic.emergencySeqs);
    await shot('doorbraken');

    const seq = traffic.emergencySeqs[0]!;
    const item = page.locator(`ul.queue > li[data-seq="${seq}"]`);
    // The grant was allowed, by the emergency procedure and not by a field rule: not called a refusal.
    await expect(item.textContent()).resolves.toContain(
      'geen regel (niet door een regel van het convenant beslist)',
    );
    await expect(item.textContent()).resolves.not.toContain('geweigerd voordat');
    await item.getByRole('button', { name: 'Oordeel vastleggen' }).click();
    await expect(item.getByRole('alert').textContent()).resolves.toBe('Kies een oordeel.');
    await item.getByLabel('Rechtmatig', { exact: true }).check();
    await item.getByLabel('Toelichting').fill('Acuut gevaar was gemeld; doorbraak terecht.');
    await item.getByRole('button', { name: 'Oordeel vastleggen' }).click();
    await page.getByText(`Oordeel over doorbraak ${seq} vastgelegd: Rechtmatig.`).waitFor();
    await item.waitFor({ state: 'detached' });
    expect(await page.locator('ul.queue > li').count()).toBe(traffic.emergencySeqs.length - 1);

    const pending = await http().get('/v1/audit/emergency-reviews').set('authorization', officer);
    expect((pending.body as { items: { entry: { seq: string } }[] }).items.map((i) => i.entry.seq)).toEqual(
      traffic.emergencySeqs.slice(1),
    );
    const reviewed = await http()
      .get('/v1/audit/emergency-reviews')
      .query({ status: 'reviewed' })
      .set('authorization', officer);
    expect((reviewed.body as { items: unknown[] }).items).toEqual([
      expect.objectContaining({
        entry: expect.objectContaining({ seq }),
        review: expect.objectContaining({
          judgement: 'lawful',
          comment: 'Acuut gevaar was gemeld; doorbraak terecht.',
          reviewedBy: 'fg-officer-1',
        }),
      }),
    ]);
  });

  it('runs a verification of the chain and shows it is intact', async () => {
    await page.getByRole('link', { name: 'Integriteit' }).click();
    await page.getByText('In deze sessie is de keten nog niet gecontroleerd.').waitFor();
    await page.getByRole('button', { name: 'Controle uitvoeren' }).click();
    await page.getByText('De keten is in orde.').waitFor();
    const entries = Number(await page.locator('dd.entries').textContent());
    expect(entries).toBeGreaterThan(0);
    // The last checkpoint shown is one the gateway signed.
    const last = await page
      .locator('dl > div', { has: page.locator('dt', { hasText: 'Laatste controlepunt' }) })
      .locator('dd')
      .textContent();
    const position = /^positie (\d+),/.exec(last ?? '')?.[1];
    const signed = await t.db.dataSource.query<{ position: string }[]>(
      `SELECT position::text AS position FROM access_log_checkpoint`,
    );
    expect(signed.map((c) => c.position)).toContain(position);
    await shot('integriteit', true);
  });

  it('shows the partner × purpose matrix as the API computes it, and the plain-language convenant', async () => {
    await page.getByRole('link', { name: 'Convenant' }).click();
    await page.getByRole('heading', { name: 'Partners × doelen' }).waitFor();
    const api = await http().get('/v1/convenant/matrix').set('authorization', officer);
    const matrix = api.body as {
      sections: string[];
      rows: {
        partnerName: string;
        purposeName: string;
        cells: Record<string, { read: string; write: string; emergency: boolean }>;
      }[];
    };
    const rows = page.locator('table.matrix tbody tr');
    expect(await rows.count()).toBe(matrix.rows.length);
    const words: Record<string, string> = { all: 'alles', some: 'deels', none: 'niets' };
    // Every cell of the first row says what the API says (text content: short label, full label, verdict).
    const first = matrix.rows[0]!;
    const firstCells = await rows.first().locator('td').allTextContents();
    expect(firstCells).toEqual(
      matrix.sections.map((s) => {
        const cell = first.cells[s]!;
        const emergency = cell.emergency ? '!een doorbraak opent meer' : '';
        return `Iinzien: ${words[cell.read]}Vvastleggen: ${words[cell.write]}${emergency}`;
      }),
    );
    const heads = await rows.locator('th').allTextContents();
    expect(heads).toEqual(matrix.rows.map((r) => `${r.partnerName}${r.purposeName}`));
    // The rendering arrives as structure only: no script, style or attribute of its own.
    const documentHeadings = await page.locator('.document h2, .document h3').count();
    expect(documentHeadings).toBeGreaterThan(0);
    expect(
      await page.locator('.document script, .document style, .document [style], .document [class]').count(),
    ).toBe(0);
    expect(await accessibilityViolations()).toEqual([]);
    await shot('convenant');
  });

  it('switches to English, keeps the session, and back', async () => {
    await page.getByRole('button', { name: 'English' }).click();
    await page.getByRole('heading', { name: 'Partners × purposes' }).waitFor();
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('en');
    await page.getByRole('link', { name: 'Access log' }).click();
    await page.getByRole('heading', { name: 'Access log', level: 1 }).waitFor();
    await waitForIdle();
    await page.getByRole('button', { name: 'Nederlands' }).click();
    await page.getByRole('heading', { name: 'Toegangslog', level: 1 }).waitFor();
  });

  it('signs out on a 401 with a sentence, and the page never broke its CSP or threw', async () => {
    await page.evaluate(() => sessionStorage.setItem('convenant.fg.token', 'expired'));
    await page.getByRole('link', { name: 'Doorbraken' }).click();
    await page.getByRole('heading', { name: 'Aanmelden' }).waitFor();
    await expect(page.getByRole('alert').textContent()).resolves.toContain('Meld u opnieuw aan');
    expect(await page.evaluate(() => sessionStorage.getItem('convenant.fg.token'))).toBeNull();
    // No failed request other than the 401s above, no script error, no CSP refusal (Chromium logs
    // those as console errors; it logs each failed request as one too).
    expect(problems.filter((p) => !p.includes('status of 401'))).toEqual([]);
  });
});
