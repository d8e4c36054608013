import type { CompiledConvenant } from './compile.js';
import { explainWhen } from './conditions.js';
import {
  effectiveAccess,
  summarise,
  universeOf,
  type EffectiveAccess,
  type SituationSummary,
} from './access.js';
import type { Action, CatalogueField, Convenant, Sensitivity } from './model.js';

/**
 * What a change to the convenant means, computed from what the two versions ENFORCE: per partner
 * × purpose, the fields each action newly reaches or no longer reaches (in which situations),
 * with special-category and criminal data first; plus the changes to partners, purposes, their
 * legal bases, retention and emergency access, and the catalogue. Both sides are evaluated over
 * the same situations (the union of the case flags their rules depend on).
 */

export type ChangeDirection = 'widened' | 'narrowed';

export interface AccessChange {
  partner: string;
  purpose: string;
  action: Action;
  /** The field, or absent for a case-level action (manage). */
  field?: string;
  /** Sensitivity in the new convenant (the old one for a removed field). */
  sensitivity?: Sensitivity;
  direction: ChangeDirection;
  /** Where the difference lies: the situations gained (widened) or lost (narrowed). */
  where: SituationSummary;
}

export interface ListChange {
  added: string[];
  removed: string[];
}

export interface ValueChange<T> {
  id: string;
  old: T;
  new: T;
}

export interface ConvenantDiff {
  old: { convenant: string; version: string };
  new: { convenant: string; version: string };
  /** True when anything below widens access (see `widenedBy`). */
  widened: boolean;
  /** Why it counts as wider: `access`, `case-action`, `retention`, `emergency`, `disclosure`, `sensitivity`. */
  widenedBy: string[];
  /** Special-category (health) and criminal fields first, then BSN and geheim adres, then ordinary. */
  access: AccessChange[];
  partners: ListChange;
  purposes: ListChange;
  /** Per partner, the purposes it is (no longer) registered for. */
  registrations: (ListChange & { partner: string })[];
  /** Per purpose, legal bases added or removed. */
  purposeLegalBases: (ListChange & { purpose: string })[];
  legalBases: ListChange & { permitsChanged: ValueChange<Sensitivity[]>[] };
  retention: ValueChange<string>[];
  emergency: ValueChange<{ allowed: boolean; window?: string }>[];
  /** Purpose flags that disclose more when turned on: involvement matches, field history. */
  disclosure: (ValueChange<boolean> & { flag: DisclosureFlag })[];
  catalogue: ListChange & { sensitivityChanged: ValueChange<Sensitivity>[] };
}

/** Purpose flags whose `true` lets partners learn more than the fields: named as in the YAML. */
const DISCLOSURE_FLAGS = {
  involvement_matches: 'involvementMatches',
  field_history: 'fieldHistory',
} as const;
export type DisclosureFlag = keyof typeof DISCLOSURE_FLAGS;

/** How much a sensitivity must be flagged: health and criminal data first (AVG art. 9 and 10). */
export const SENSITIVITY_RANK: Record<Sensitivity, number> = {
  health: 0,
  criminal: 0,
  bsn: 1,
  'confidential-address': 1,
  ordinary: 2,
};

export const isSpecialOrCriminal = (s: Sensitivity | undefined): boolean =>
  s === 'health' || s === 'criminal';

const listChange = (before: readonly string[], after: readonly string[]): ListChange => ({
  added: after.filter((x) => !before.includes(x)).sort(),
  removed: before.filter((x) => !after.includes(x)).sort(),
});

const changed = (l: ListChange) => l.added.length > 0 || l.removed.length > 0;

/** Approximate seconds of an ISO-8601 duration, enough to tell longer from shorter. */
export function durationSeconds(iso: string): number {
  const m = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/.exec(
    iso,
  );
  if (!m) return Number.NaN;
  const n = (i: number) => Number(m[i] ?? 0);
  const day = 86_400;
  return (
    n(1) * 365.25 * day + n(2) * 30.44 * day + n(3) * 7 * day + n(4) * day + n(5) * 3600 + n(6) * 60 + n(7)
  );
}

function difference(a: ReadonlySet<string> | undefined, b: ReadonlySet<string> | undefined): string[] {
  if (!a) return [];
  return [...a].filter((k) => !b?.has(k));
}

function accessChanges(
  oldC: Convenant,
  newC: Convenant,
  oldAccess: EffectiveAccess,
  newAccess: EffectiveAccess,
): AccessChange[] {
  const fieldOf = (id: string): CatalogueField | undefined =>
    newC.fields.find((f) => f.id === id) ?? oldC.fields.find((f) => f.id === id);
  const pairKey = (p: { partner: string; purpose: string }) => `${p.partner}\u0000${p.purpose}`;
  const oldPairs = new Map(oldAccess.pairs.map((p) => [pairKey(p), p]));
  const newPairs = new Map(newAccess.pairs.map((p) => [pairKey(p), p]));
  const keys = [...new Set([...oldPairs.keys(), ...newPairs.keys()])].sort();
  const out: AccessChange[] = [];
  for (const key of keys) {
    const [partner, purpose] = key.split('\u0000') as [string, string];
    const before = oldPairs.get(key);
    const after = newPairs.get(key);
    const actions = [...new Set([...(before?.fields.keys() ?? []), ...(after?.fields.keys() ?? [])])];
    for (const action of actions) {
      const b = before?.fields.get(action);
      const a = after?.fields.get(action);
      const fields = [...new Set([...(b?.keys() ?? []), ...(a?.keys() ?? [])])];
      for (const field of fields) {
        const sensitivity = fieldOf(field)?.sensitivity;
        const gained = difference(a?.get(field), b?.get(field));
        const lost = difference(b?.get(field), a?.get(field));
        const base = { partner, purpose, action, field, ...(sensitivity ? { sensitivity } : {}) };
        if (gained.length > 0) out.push({ ...base, direction: 'widened', where: summarise(gained) });
        if (lost.length > 0) out.push({ ...base, direction: 'narrowed', where: summarise(lost) });
      }
    }
    const caseActions = [
      ...new Set([...(before?.caseActions.keys() ?? []), ...(after?.caseActions.keys() ?? [])]),
    ];
    for (const action of caseActions) {
      const gained = difference(after?.caseActions.get(action), before?.caseActions.get(action));
      const lost = difference(before?.caseActions.get(action), after?.caseActions.get(action));
      if (gained.length > 0)
        out.push({ partner, purpose, action, direction: 'widened', where: summarise(gained) });
      if (lost.length > 0)
        out.push({ partner, purpose, action, direction: 'narrowed', where: summarise(lost) });
    }
  }
  const fieldOrder = (f: string | undefined) =>
    f === undefined ? -1 : newC.fields.findIndex((x) => x.id === f);
  const rank = (c: AccessChange) => (c.sensitivity ? SENSITIVITY_RANK[c.sensitivity] : 2);
  return out.sort(
    (x, y) =>
      rank(x) - rank(y) ||
      (x.direction === y.direction ? 0 : x.direction === 'widened' ? -1 : 1) ||
      x.partner.localeCompare(y.partner) ||
      x.purpose.localeCompare(y.purpose) ||
      x.action.localeCompare(y.action) ||
      fieldOrder(x.field) - fieldOrder(y.field) ||
      (x.field ?? '').localeCompare(y.field ?? ''),
  );
}

export function diffConvenants(
  oldCompiled: CompiledConvenant,
  newCompiled: CompiledConvenant,
): ConvenantDiff {
  const oldC = oldCompiled.convenant;
  const newC = newCompiled.convenant;
  const universe = universeOf(oldC, newC);
  const access = accessChanges(
    oldC,
    newC,
    effectiveAccess(oldCompiled, universe),
    effectiveAccess(newCompiled, universe),
  );

  const registrations = [...new Set([...oldC.partners, ...newC.partners].map((p) => p.id))]
    .sort()
    .map((partner) => ({
      partner,
      ...listChange(
        oldC.partners.find((p) => p.id === partner)?.purposes ?? [],
        newC.partners.find((p) => p.id === partner)?.purposes ?? [],
      ),
    }))
    .filter(changed);

  const bothPurposes = newC.purposes
    .map((u) => ({ u, old: oldC.purposes.find((o) => o.id === u.id) }))
    .filter(
      (x): x is { u: (typeof newC.purposes)[number]; old: (typeof oldC.purposes)[number] } =>
        x.old !== undefined,
    )
    .sort((a, b) => a.u.id.localeCompare(b.u.id));
  const purposeLegalBases = bothPurposes
    .map(({ u, old }) => ({ purpose: u.id, ...listChange(old.legalBases, u.legalBases) }))
    .filter(changed);
  const retention = bothPurposes
    .filter(({ u, old }) => u.retention !== old.retention)
    .map(({ u, old }) => ({ id: u.id, old: old.retention, new: u.retention }));
  const emergency = bothPurposes
    .filter(
      ({ u, old }) =>
        u.emergencyAccess.allowed !== old.emergencyAccess.allowed ||
        u.emergencyAccess.window !== old.emergencyAccess.window,
    )
    .map(({ u, old }) => ({ id: u.id, old: { ...old.emergencyAccess }, new: { ...u.emergencyAccess } }));

  const disclosure = bothPurposes.flatMap(({ u, old }) =>
    (Object.keys(DISCLOSURE_FLAGS) as DisclosureFlag[])
      .filter((flag) => u[DISCLOSURE_FLAGS[flag]] !== old[DISCLOSURE_FLAGS[flag]])
      .map((flag) => ({ id: u.id, flag, old: old[DISCLOSURE_FLAGS[flag]], new: u[DISCLOSURE_FLAGS[flag]] })),
  );

  const oldBases = new Map(oldC.legalBases.map((b) => [b.id, b]));
  const permitsChanged = newC.legalBases
    .filter((b) => {
      const o = oldBases.get(b.id);
      return o !== undefined && [...o.permits].sort().join() !== [...b.permits].sort().join();
    })
    .map((b) => ({ id: b.id, old: [...oldBases.get(b.id)!.permits].sort(), new: [...b.permits].sort() }))
    .sort((a, b) => a.id.localeCompare(b.id));

  const oldFields = new Map(oldC.fields.map((f) => [f.id, f]));
  const sensitivityChanged = newC.fields
    .filter((f) => oldFields.has(f.id) && oldFields.get(f.id)!.sensitivity !== f.sensitivity)
    .map((f) => ({ id: f.id, old: oldFields.get(f.id)!.sensitivity, new: f.sensitivity }))
    .sort((a, b) => a.id.localeCompare(b.id));

  const widenedBy: string[] = [];
  if (access.some((c) => c.direction === 'widened' && c.field !== undefined)) widenedBy.push('access');
  if (access.some((c) => c.direction === 'widened' && c.field === undefined)) widenedBy.push('case-action');
  if (retention.some((r) => durationSeconds(r.new) > durationSeconds(r.old))) widenedBy.push('retention');
  if (
    emergency.some(
      (e) =>
        (e.new.allowed && !e.old.allowed) ||
        (e.new.allowed && durationSeconds(e.new.window ?? 'PT0S') > durationSeconds(e.old.window ?? 'PT0S')),
    )
  )
    widenedBy.push('emergency');
  if (disclosure.some((d) => d.new && !d.old)) widenedBy.push('disclosure');
  // A field reclassified to a lower sensitivity needs a weaker legal basis from now on.
  if (sensitivityChanged.some((s) => SENSITIVITY_RANK[s.new] > SENSITIVITY_RANK[s.old]))
    widenedBy.push('sensitivity');

  return {
    old: { convenant: oldC.id, version: oldCompiled.version },
    new: { convenant: newC.id, version: newCompiled.version },
    widened: widenedBy.length > 0,
    widenedBy,
    access,
    partners: listChange(
      oldC.partners.map((p) => p.id),
      newC.partners.map((p) => p.id),
    ),
    purposes: listChange(
      oldC.purposes.map((u) => u.id),
      newC.purposes.map((u) => u.id),
    ),
    registrations,
    purposeLegalBases,
    legalBases: {
      ...listChange(
        oldC.legalBases.map((b) => b.id),
        newC.legalBases.map((b) => b.id),
      ),
      permitsChanged,
    },
    retention,
    emergency,
    disclosure,
    catalogue: {
      ...listChange(
        oldC.fields.map((f) => f.id),
        newC.fields.map((f) => f.id),
      ),
      sensitivityChanged,
    },
  };
}

/** `phases herstel; roles slachtoffer, kind; as participant; with flag geheim-adres; only under doorbraak` */
export function whereText(w: SituationSummary): string {
  // A summary reads as the conditions of a rule that would hold in exactly those situations.
  return explainWhen({
    phase: w.phases,
    ...(w.roles ? { personRole: w.roles } : {}),
    participant: w.participation === 'required' ? true : 'any',
    caseFlags: w.flagsNeeded,
    ...(w.emergency === 'only' ? { emergency: true } : {}),
  });
}

const arrow = (d: ChangeDirection) => (d === 'widened' ? '+' : '-');

function changeLine(c: AccessChange, withPair: boolean): string {
  const what = c.field ?? '(the case)';
  const tag = c.sensitivity && c.sensitivity !== 'ordinary' ? ` [${c.sensitivity}]` : '';
  const pair = withPair ? `${c.partner}/${c.purpose} ` : '';
  return `${arrow(c.direction)} ${pair}${c.action} ${what}${tag}  (${whereText(c.where)})`;
}

const durationOrNone = (w: string | undefined) => w ?? 'default window';

/** The diff as text lines for a terminal, deterministic (no colours, no dates). */
export function diffText(d: ConvenantDiff): string[] {
  const lines: string[] = [];
  lines.push(`convenant diff ${d.old.convenant} ${d.old.version} -> ${d.new.convenant} ${d.new.version}`);
  lines.push(d.widened ? `Access WIDENED (${d.widenedBy.join(', ')}).` : 'Access not widened.');
  const flagged = d.access.filter((c) => isSpecialOrCriminal(c.sensitivity));
  if (flagged.length > 0) {
    lines.push('', '!! Special-category (health) and criminal data:');
    for (const c of flagged) lines.push(`  ${changeLine(c, true)}`);
  }
  if (d.access.length > 0) {
    lines.push('', 'Access per partner and purpose:');
    const pairs = [...new Set(d.access.map((c) => `${c.partner}/${c.purpose}`))].sort();
    for (const pair of pairs) {
      lines.push(`  ${pair}`);
      const changes = d.access.filter((c) => `${c.partner}/${c.purpose}` === pair);
      for (const c of changes) lines.push(`    ${changeLine(c, false)}`);
    }
  }
  const listLines = (title: string, l: ListChange) =>
    changed(l)
      ? [`  ${title}: ${[...l.added.map((x) => `+${x}`), ...l.removed.map((x) => `-${x}`)].join(' ')}`]
      : [];
  const other = [
    ...listLines('partners', d.partners),
    ...listLines('purposes', d.purposes),
    ...d.registrations.flatMap((r) => listLines(`purposes of ${r.partner}`, r)),
    ...d.purposeLegalBases.flatMap((r) => listLines(`legal bases of ${r.purpose}`, r)),
    ...listLines('legal bases', d.legalBases),
    ...d.legalBases.permitsChanged.map(
      (p) => `  legal basis ${p.id} permits: ${p.old.join(', ')} -> ${p.new.join(', ')}`,
    ),
    ...d.retention.map((r) => `  retention of ${r.id}: ${r.old} -> ${r.new}`),
    ...d.emergency.map(
      (e) =>
        `  emergency access of ${e.id}: ${e.old.allowed ? `allowed (${durationOrNone(e.old.window)})` : 'not allowed'} -> ` +
        `${e.new.allowed ? `allowed (${durationOrNone(e.new.window)})` : 'not allowed'}`,
    ),
    ...d.disclosure.map((x) => `  ${x.flag} of ${x.id}: ${x.old} -> ${x.new}`),
    ...listLines('catalogue fields', d.catalogue),
    ...d.catalogue.sensitivityChanged.map((s) => `  sensitivity of ${s.id}: ${s.old} -> ${s.new}`),
  ];
  if (other.length > 0) lines.push('', 'Convenant:', ...other);
  if (d.access.length === 0 && other.length === 0) lines.push('', 'No differences in what is enforced.');
  return lines;
}
