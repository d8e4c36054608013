import type { CompiledConvenant, Sensitivity } from '../policy/index.js';
import type { AuditEvent } from './audit.repository.js';

/**
 * The AVG art. 15 overview for one person: who accessed their data, when, for which purpose,
 * under which legal basis and which categories of data, allowed and denied. Pure: built from log
 * entries and the convenant, so names and citations are those of the convenant, not of code.
 */

export const SENSITIVITY_WORDS: Record<Sensitivity, string> = {
  ordinary: 'gewone persoonsgegevens',
  bsn: 'burgerservicenummer (BSN)',
  health: 'gezondheidsgegevens (bijzonder persoonsgegeven, art. 9 AVG)',
  criminal: 'strafrechtelijke gegevens (art. 10 AVG)',
  'confidential-address': 'geheim adres',
};

export interface ReportCategory {
  section: string;
  sensitivity: Sensitivity;
  description: string;
}

export interface ReportAccess {
  occurredAt: string;
  outcome: 'allowed' | 'denied';
  action: string;
  partner: { id: string; name: string } | null;
  /** Only when the officer asked for professionals. */
  professional?: string | null;
  purpose: { id: string; name: string } | null;
  legalBasis: { id: string; citation: string }[];
  categories: ReportCategory[];
  emergency: boolean;
}

export interface SubjectReport {
  subjectRef: string;
  generatedAt: string;
  policyVersion: string;
  includesProfessionals: boolean;
  accesses: ReportAccess[];
}

export function buildSubjectReport(
  compiled: CompiledConvenant,
  subjectRef: string,
  events: readonly AuditEvent[],
  includeProfessionals: boolean,
): SubjectReport {
  const { partners, purposes, legalBases } = compiled.convenant;
  return {
    subjectRef,
    generatedAt: new Date().toISOString(),
    policyVersion: compiled.version,
    includesProfessionals: includeProfessionals,
    accesses: events.map((e) => {
      const partner = partners.find((p) => p.id === e.partner);
      const purpose = purposes.find((p) => p.id === e.purpose);
      const categories = new Map<string, ReportCategory>();
      for (const fieldId of e.fields) {
        const field = compiled.field(fieldId);
        const section = field?.section ?? fieldId.split('.')[0] ?? fieldId;
        const sensitivity = field?.sensitivity ?? 'ordinary';
        categories.set(`${section}/${sensitivity}`, {
          section,
          sensitivity,
          description: SENSITIVITY_WORDS[sensitivity],
        });
      }
      return {
        occurredAt: e.occurredAt,
        outcome: e.outcome,
        action: e.action,
        // A partner no longer in the convenant is still named by its id: the access happened.
        partner: e.partner ? { id: e.partner, name: partner?.name ?? e.partner } : null,
        ...(includeProfessionals ? { professional: e.professional } : {}),
        purpose: e.purpose ? { id: e.purpose, name: purpose?.name ?? e.purpose } : null,
        legalBasis: e.legalBasis.map((id) => ({
          id,
          citation: legalBases.find((b) => b.id === id)?.citation ?? id,
        })),
        categories: [...categories.values()],
        emergency: e.emergency,
      };
    }),
  };
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Every value on the page passes through here: log rows may hold text a partner system chose. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

const ACTION_WORDS: Record<string, string> = {
  read: 'ingezien',
  write: 'vastgelegd',
  list: 'in een overzicht getoond',
  manage: 'beheerd',
  history: 'historie ingezien',
  authenticate: 'aangemeld',
  audit: 'door toezicht bekeken',
};

/** A printable, self-contained Dutch page (no scripts, no external resources). */
export function renderSubjectReportHtml(report: SubjectReport): string {
  const h = escapeHtml;
  const time = (iso: string) =>
    new Date(iso).toLocaleString('nl-NL', {
      timeZone: 'Europe/Amsterdam',
      dateStyle: 'long',
      timeStyle: 'medium',
    });
  const rows = report.accesses
    .map((a) => {
      const cells = [
        time(a.occurredAt),
        a.partner?.name ?? 'onbekend',
        ...(report.includesProfessionals ? [a.professional ?? '—'] : []),
        a.purpose?.name ?? 'onbekend',
        a.legalBasis.map((b) => b.citation).join('; ') || '—',
        a.categories.map((c) => `${c.section}: ${c.description}`).join('; ') || '—',
        (ACTION_WORDS[a.action] ?? a.action) + (a.emergency ? ' (doorbraak)' : ''),
        a.outcome === 'allowed' ? 'toegestaan' : 'geweigerd',
      ];
      return `<tr>${cells.map((c) => `<td>${h(c)}</td>`).join('')}</tr>`;
    })
    .join('\n');
  const headers = [
    'Wanneer',
    'Organisatie',
    ...(report.includesProfessionals ? ['Medewerker'] : []),
    'Doel',
    'Grondslag',
    'Soort gegevens',
    'Handeling',
    'Uitkomst',
  ];
  return `<!doctype html>
<html lang="nl">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>Overzicht inzage persoonsgegevens (AVG art. 15)</title>
<style>
body { font-family: sans-serif; margin: 2em; }
table { border-collapse: collapse; width: 100%; font-size: 0.9em; }
th, td { border: 1px solid #999; padding: 0.3em; text-align: left; vertical-align: top; }
@media print { body { margin: 0; } }
</style>
</head>
<body>
<h1>Overzicht inzage persoonsgegevens</h1>
<p>Dit overzicht (artikel 15 AVG) toont wie gegevens over deze persoon heeft ingezien of vastgelegd onder het convenant, wanneer, voor welk doel, op welke grondslag en welke soort gegevens. Ook geweigerde pogingen staan erin.</p>
<p>Betrokkene (pseudoniem): ${h(report.subjectRef)}<br>Opgesteld: ${h(time(report.generatedAt))}<br>Convenantversie: ${h(report.policyVersion)}<br>Aantal toegangen: ${report.accesses.length}</p>
<table>
<thead><tr>${headers.map((c) => `<th>${h(c)}</th>`).join('')}</tr></thead>
<tbody>
${rows}
</tbody>
</table>
</body>
</html>
`;
}
