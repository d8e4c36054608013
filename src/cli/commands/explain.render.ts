import type { DecisionGroup, Explanation, FieldExplanation, Situation } from '../../policy/explain.js';
import type { Phase } from '../../policy/model.js';
import type { Styler } from '../context.js';
import { heading, plural, table, type Cell } from '../table.js';

/**
 * The terminal rendering of an Explanation: a header, the purpose, `manage`, then one aligned
 * table per catalogue section and a legend of the rules cited. Fields that only the default
 * denies are counted per section instead of listed (they are all in the JSON output).
 */
export function renderExplanation(e: Explanation, style: Styler): string[] {
  const rulesCited = new Map<string, string>();
  const cite = (d: DecisionGroup) => {
    if (d.ruleId) rulesCited.set(d.ruleId, d.reason);
  };

  const lines = [
    ...table(
      [
        ['Partner', `${e.partner.id}  ${e.partner.name}`],
        ['Purpose', `${e.purpose.id}  ${e.purpose.name}`],
        ['Policy', e.policyVersion],
        ['Scope', scopeText(e)],
      ],
      style,
      '',
    ),
    '',
    heading('Purpose', style),
    ...table(
      [
        ...e.purpose.legalBases.map((b, i): Cell[] => [
          i === 0 ? 'Legal bases' : '',
          b.id,
          b.citation,
          `permits ${b.permits.join(', ')}`,
        ]),
        ['Retention', e.purpose.retention],
        [
          'Emergency',
          e.purpose.emergencyAccess.allowed
            ? `allowed${e.purpose.emergencyAccess.window ? `, window ${e.purpose.emergencyAccess.window}` : ''}`
            : 'not allowed',
        ],
        ['Involvement', e.purpose.involvementMatches ? 'matches disclosed' : 'matches not disclosed'],
        ['History', e.purpose.fieldHistory ? 'earlier versions shown' : 'current values only'],
      ],
      style,
    ),
    '',
    heading('Manage the case', style),
    ...table(
      grantsFirst(e.manage.decisions).map((d) => {
        cite(d);
        return decisionCells(d, e);
      }),
      style,
    ),
  ];

  for (const section of sectionsOf(e.fields)) {
    const listed = section.fields.filter((f) => !f.deniedByDefault);
    const unlisted = section.fields.length - listed.length;
    lines.push('', heading(`Section ${section.id}`, style));
    const rows: Cell[][] = [];
    for (const field of listed) {
      let first = true;
      for (const [action, explanation] of [
        ['read', field.read],
        ['write', field.write],
      ] as const) {
        for (const d of grantsFirst(explanation.decisions)) {
          cite(d);
          rows.push([first ? field.field : '', action, ...decisionCells(d, e)]);
          first = false;
        }
      }
    }
    lines.push(...table(rows, style));
    if (unlisted > 0) {
      const text =
        listed.length === 0
          ? `${plural(unlisted, 'field')}: no rule grants read or write`
          : `${plural(unlisted, 'more field')}: no rule grants read or write`;
      lines.push(`  ${style('dim', text)}`);
    }
  }

  if (rulesCited.size > 0) {
    lines.push(
      '',
      heading('Rules cited', style),
      ...table(
        [...rulesCited].map(([id, reason]) => [id, reason]),
        style,
      ),
    );
  }
  return lines;
}

/** Readers look for what is allowed first; within each kind, phase order is kept. */
const grantsFirst = (ds: readonly DecisionGroup[]) => [
  ...ds.filter((d) => d.allowed),
  ...ds.filter((d) => !d.allowed),
];

function decisionCells(d: DecisionGroup, e: Explanation): Cell[] {
  const verdict: Cell = d.allowed
    ? { text: '✓ allowed', format: 'green' }
    : { text: '✗ denied', format: 'red' };
  const rule: Cell = d.ruleId ?? { text: d.reason, format: 'dim' };
  const bases = d.legalBases?.map((b) => b.citation).join('; ') ?? '';
  return [verdict, whereText(d.where, e.scope), rule, bases];
}

function scopeText(e: Explanation): string {
  const s = e.scope;
  return [
    s.phases.length === 1 ? `phase ${s.phases[0]}` : 'all phases',
    s.roles.length === 1 ? `role ${s.roles[0]}` : 'all roles',
    s.participant ? 'taking part in the case' : 'not taking part in the case',
    s.flags.length > 0 ? `case flags ${s.flags.join(', ')}` : 'no case flags',
    s.emergency ? 'under emergency access' : 'no emergency access',
  ].join(' · ');
}

/**
 * "stabilisatie, herstel"; for person-level fields the roles follow in brackets when the rule
 * decides for only some of the roles in scope: "acute (pleger, kind); herstel (kind)".
 */
export function whereText(where: readonly Situation[], scope: Explanation['scope']): string {
  const phases = (ps: readonly Phase[]) =>
    ps.length === scope.phases.length && ps.length > 1 ? 'all phases' : ps.join(', ');
  const byRoles = new Map<string, Phase[]>();
  for (const w of where) {
    const everyRole = w.roles === undefined || w.roles.length === scope.roles.length;
    const key = everyRole ? '' : (w.roles ?? []).join(', ');
    byRoles.set(key, [...(byRoles.get(key) ?? []), w.phase]);
  }
  return [...byRoles].map(([roles, ps]) => (roles ? `${phases(ps)} (${roles})` : phases(ps))).join('; ');
}

function sectionsOf(fields: readonly FieldExplanation[]): { id: string; fields: FieldExplanation[] }[] {
  const sections = new Map<string, FieldExplanation[]>();
  for (const f of fields) sections.set(f.section, [...(sections.get(f.section) ?? []), f]);
  return [...sections].map(([id, fs]) => ({ id, fields: fs }));
}
