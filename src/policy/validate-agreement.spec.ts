import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkConvenantSources, formatDiagnostic } from './validate.js';

/**
 * The agreement, signatories and person_roles checks on the Twente example, each finding as
 * `file:line:column severity code` at the place a jurist has to change.
 */
const DIR = 'policies/vh-twente';
const FILES = readdirSync(DIR)
  .filter((f) => f.endsWith('.yaml'))
  .sort()
  .map((f) => ({ path: join(DIR, f), text: readFileSync(join(DIR, f), 'utf8') }));

/** Validates Twente with `from` replaced by `to` in `file`; returns the findings as lines. */
function findings(file: string, from: string | RegExp, to: string): string[] {
  const files = FILES.map((f) => {
    if (!f.path.endsWith(file)) return f;
    const text = f.text.replace(from, to);
    expect(text).not.toBe(f.text);
    return { ...f, text };
  });
  return checkConvenantSources(DIR, files)
    .diagnostics.filter((d) => d.code !== 'signals-not-for-partner')
    .map(formatDiagnostic);
}

const line = (file: string, needle: string): number =>
  readFileSync(join(DIR, file), 'utf8')
    .split('\n')
    .findIndex((l) => l.includes(needle)) + 1;

describe('the agreement of a convenant', () => {
  it('is valid as the Twente example gives it', () => {
    expect(findings('00-convenant.yaml', 'authority_within: PT72H', 'authority_within: PT72H ')).toEqual([]);
  });

  it('refuses notifying the Autoriteit Persoonsgegevens later than 72 hours (AVG art. 33)', () => {
    const at = line('00-convenant.yaml', 'authority_within: PT72H');
    expect(findings('00-convenant.yaml', 'authority_within: PT72H', 'authority_within: P4D')).toEqual([
      expect.stringMatching(
        new RegExp(
          `^policies/vh-twente/00-convenant\\.yaml:${at}:23 error breach-notification-too-late: .*within 72 hours`,
        ),
      ),
    ]);
  });

  it('warns when partners report a breach no sooner than the authority must be told', () => {
    expect(findings('00-convenant.yaml', 'report_within: PT12H', 'report_within: P3D')).toEqual([
      expect.stringMatching(/00-convenant\.yaml:\d+:20 warning breach-report-too-late:/),
    ]);
  });

  it('names an unknown party at its place, with a suggestion', () => {
    expect(
      findings('00-convenant.yaml', 'contact_point: gemeente-enschede', 'contact_point: gemeente-ensched'),
    ).toEqual([
      expect.stringMatching(
        /00-convenant\.yaml:\d+:20 error unknown-partner: The agreement names 'gemeente-ensched' as contact point, .*Did you mean 'gemeente-enschede'\?/,
      ),
    ]);
  });

  it("refuses an officer that reads every partner's log under an own-organisation scope", () => {
    expect(findings('00-convenant.yaml', 'scope: joint', 'scope: own-organisation')).toEqual([
      expect.stringMatching(
        /00-convenant\.yaml:\d+:\d+ error officer-scope-mismatch: 'fg-twente' is an officer partner/,
      ),
    ]);
  });

  it('warns about a partner without signatories and a DPIA dated after the start', () => {
    const found = findings(
      '10-partners.yaml',
      /\n {4}signatories:\n {6}- \{ name: 'L\. \(Linda\) Bosch'.*\n/,
      '\n',
    );
    expect(found).toEqual([
      expect.stringMatching(/10-partners\.yaml:\d+:5 warning missing-signatory: Partner 'halt-on'/),
    ]);
    expect(findings('00-convenant.yaml', 'date: 2026-01-15', 'date: 2026-04-01')).toEqual([
      expect.stringMatching(
        /warning dpia-after-start: The DPIA is dated 2026-04-01, after the convenant takes effect \(2026-03-01\)/,
      ),
    ]);
  });
});

describe('person_roles', () => {
  it('refuses a general word that only one role uses: it would betray that role', () => {
    expect(findings('00-convenant.yaml', '  gezinslid: { shown_as: betrokkene }\n', '')).toEqual([
      expect.stringMatching(
        /00-convenant\.yaml:\d+:\d+ error role-word-betrays-role: Only 'pleger' is shown as 'betrokkene'/,
      ),
    ]);
  });

  it('refuses a word that is itself a role, and a role field that a rule lets anyone write', () => {
    expect(
      findings('00-convenant.yaml', 'gezinslid: { shown_as: betrokkene }', 'gezinslid: { shown_as: kind }'),
    ).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/error role-shown-as-role: 'gezinslid' would be shown as 'kind'/),
      ]),
    );
    const written = findings(
      '40-rules.yaml',
      'fields: [justitie.antecedenten]',
      'fields: [justitie.antecedenten, persoon.*]',
    );
    expect(written).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /error role-field-written: Rule 'politie-jeugd-vastleggen' lets partners write 'persoon\.pleger-rol' \(through 'persoon\.\*'\)/,
        ),
      ]),
    );
  });
});
