import { FIELD_ACTIONS, type CompiledConvenant } from './compile.js';
import { effectiveAccess, parseSituationKey, type EffectiveAccess } from './access.js';
import type { Action } from './model.js';

/**
 * The partner × purpose × catalogue section grid: per cell whether the pair may read and write
 * all, some or none of the section's fields in the ordinary course (without doorbraak, in some
 * phase or role), and whether a doorbraak opens fields of the section that are otherwise closed.
 * Built on effectiveAccess, so it shows what is enforced.
 */

export type Coverage = 'all' | 'some' | 'none';

export interface MatrixCell {
  read: Coverage;
  write: Coverage;
  /** A doorbraak (emergency access) opens fields of this section that are closed without it. */
  emergency: boolean;
  /** The fields behind each verdict, in catalogue order. */
  readFields: string[];
  writeFields: string[];
  emergencyFields: string[];
}

export interface MatrixRow {
  partner: string;
  partnerName: string;
  purpose: string;
  purposeName: string;
  cells: Record<string, MatrixCell>;
  /** Case-level actions (manage, …) allowed in some situation without doorbraak. */
  caseActions: string[];
}

export interface ConvenantMatrix {
  convenant: string;
  version: string;
  sections: string[];
  rows: MatrixRow[];
}

const coverage = (granted: number, total: number): Coverage =>
  granted === 0 ? 'none' : granted === total ? 'all' : 'some';

export function buildMatrix(
  compiled: CompiledConvenant,
  access: EffectiveAccess = effectiveAccess(compiled),
): ConvenantMatrix {
  const c = compiled.convenant;
  const sections = c.sections.map((s) => s.id);
  const rows = access.pairs.map((pair): MatrixRow => {
    const ordinary = (action: Action, field: string) =>
      [...(pair.fields.get(action)?.get(field) ?? [])].some((k) => !parseSituationKey(k).emergency);
    // A field opens under doorbraak when some emergency situation allows it while the same
    // situation without doorbraak does not.
    const opensInEmergency = (field: string) =>
      FIELD_ACTIONS.some((action) => {
        const keys = pair.fields.get(action)?.get(field) ?? new Set<string>();
        return [...keys].some(
          (k) => k.includes('|emergency|') && !keys.has(k.replace('|emergency|', '|normal|')),
        );
      });
    const cells: Record<string, MatrixCell> = {};
    for (const section of c.sections) {
      const ids = section.fields.map((f) => f.id);
      const readFields = ids.filter((f) => ordinary('read', f));
      const writeFields = ids.filter((f) => ordinary('write', f));
      const emergencyFields = ids.filter(opensInEmergency);
      cells[section.id] = {
        read: coverage(readFields.length, ids.length),
        write: coverage(writeFields.length, ids.length),
        emergency: emergencyFields.length > 0,
        readFields,
        writeFields,
        emergencyFields,
      };
    }
    const caseActions = [...pair.caseActions.entries()]
      .filter(([, keys]) => [...keys].some((k) => !parseSituationKey(k).emergency))
      .map(([action]) => action)
      .sort();
    return {
      partner: pair.partner,
      partnerName: compiled.partner(pair.partner).name,
      purpose: pair.purpose,
      purposeName: compiled.purpose(pair.purpose).name,
      cells,
      caseActions,
    };
  });
  return { convenant: c.id, version: compiled.version, sections, rows };
}

const SYMBOL: Record<Coverage, string> = { all: '●', some: '◐', none: '·' };

/** `R●W◐!`: read all, write some, doorbraak opens more. */
function cellText(cell: MatrixCell): string {
  return `R${SYMBOL[cell.read]}W${SYMBOL[cell.write]}${cell.emergency ? '!' : ' '}`;
}

const LEGEND =
  'R = lezen, W = schrijven; ● alle velden, ◐ sommige, · geen (zonder doorbraak, in enige fase of rol); ! doorbraak opent meer velden.';

/** Rows of text cells (header first), shared by the table, Markdown and CSV forms. */
function grid(m: ConvenantMatrix): string[][] {
  return [
    ['partner', 'doel', ...m.sections],
    ...m.rows.map((r) => [r.partner, r.purpose, ...m.sections.map((s) => cellText(r.cells[s]!).trimEnd())]),
  ];
}

export function matrixTable(m: ConvenantMatrix): string[] {
  const rows = grid(m);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return [
    `Matrix ${m.convenant} ${m.version}`,
    '',
    ...rows.map((r) =>
      r
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    ),
    '',
    LEGEND,
  ];
}

export function matrixMarkdown(m: ConvenantMatrix): string {
  const rows = grid(m);
  const line = (r: string[]) => `| ${r.map((c) => c.replaceAll('|', '\\|')).join(' | ')} |`;
  return [
    `# Matrix ${m.convenant} ${m.version}`,
    '',
    line(rows[0]!),
    line(rows[0]!.map(() => '---')),
    ...rows.slice(1).map(line),
    '',
    LEGEND,
    '',
  ].join('\n');
}

const csvCell = (v: string) => (/[",\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v);

/** One line per partner × purpose × section, machine-friendly (read/write coverage, emergency). */
export function matrixCsv(m: ConvenantMatrix): string {
  const lines = [['partner', 'purpose', 'section', 'read', 'write', 'emergency'].join(',')];
  for (const r of m.rows) {
    for (const s of m.sections) {
      const cell = r.cells[s]!;
      lines.push(
        [r.partner, r.purpose, s, cell.read, cell.write, String(cell.emergency)].map(csvCell).join(','),
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

export function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

const COVERAGE_NL: Record<Coverage, string> = { all: 'alle', some: 'sommige', none: 'geen' };

/** A standalone HTML page: no scripts, no external assets, every text escaped. */
export function matrixHtml(m: ConvenantMatrix): string {
  const e = escapeHtml;
  const head = m.sections.map((s) => `<th scope="col">${e(s)}</th>`).join('');
  const body = m.rows
    .map((r) => {
      const cells = m.sections
        .map((s) => {
          const cell = r.cells[s]!;
          const title = `lezen: ${COVERAGE_NL[cell.read]}, schrijven: ${COVERAGE_NL[cell.write]}${cell.emergency ? ', doorbraak opent meer' : ''}`;
          return `<td class="r-${cell.read} w-${cell.write}${cell.emergency ? ' em' : ''}" title="${e(title)}">${e(cellText(cell).trimEnd())}</td>`;
        })
        .join('');
      return `<tr><th scope="row">${e(r.partnerName)} <small>(${e(r.partner)})</small></th><td class="purpose">${e(r.purposeName)} <small>(${e(r.purpose)})</small></td>${cells}</tr>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="nl">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Matrix ${e(m.convenant)} ${e(m.version)}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #111; }
table { border-collapse: collapse; font-size: 0.85rem; }
th, td { border: 1px solid #bbb; padding: 0.25rem 0.4rem; text-align: left; vertical-align: top; }
td { font-family: ui-monospace, monospace; white-space: nowrap; }
td.purpose { font-family: inherit; white-space: normal; }
td.r-all { background: #d8f0d8; } td.r-some { background: #f3f0c8; }
td.em { outline: 2px solid #c33; outline-offset: -2px; }
small { color: #555; }
@media print { body { margin: 0; } td.em { outline: none; border: 2px solid #000; } }
</style>
</head>
<body>
<h1>Matrix ${e(m.convenant)}</h1>
<p>Versie ${e(m.version)}. ${e(LEGEND)}</p>
<table>
<thead><tr><th scope="col">partner</th><th scope="col">doel</th>${head}</tr></thead>
<tbody>
${body}
</tbody>
</table>
</body>
</html>
`;
}
