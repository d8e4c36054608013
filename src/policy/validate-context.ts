/**
 * What every semantic check of validate.ts shares: the lookups built once per convenant, and the
 * words findings are phrased in.
 */
import { formatPosition, type LoadResult } from './load.js';
import type {
  Action,
  CatalogueField,
  Convenant,
  Diagnostic,
  LegalBasis,
  Partner,
  Purpose,
  Rule,
  Sensitivity,
  SourceRef,
} from './model.js';

export type Locate = LoadResult['locate'];
// ---------------------------------------------------------------------------------------------
// Context: lookups shared by every check
// ---------------------------------------------------------------------------------------------

export interface Context {
  c: Convenant;
  partners: Map<string, Partner>;
  purposes: Map<string, Purpose>;
  bases: Map<string, LegalBasis>;
  flags: Set<string>;
  kinds: Set<string>;
  fields: Map<string, CatalogueField>;
  sections: Set<string>;
  /** A diagnostic at `src`, or at a child of it (YAML keys and indexes below src.path). */
  report(
    severity: Diagnostic['severity'],
    code: string,
    message: string,
    src: SourceRef,
    ...below: (string | number)[]
  ): Diagnostic;
  where(src: SourceRef, ...below: (string | number)[]): string;
}

export function context(c: Convenant, locate: Locate): Context {
  const byId = <T extends { id: string }>(items: readonly T[]): Map<string, T> => {
    const map = new Map<string, T>();
    for (const item of items) if (!map.has(item.id)) map.set(item.id, item);
    return map;
  };
  const child = (src: SourceRef, below: (string | number)[]): SourceRef => ({
    file: src.file,
    path: [...src.path, ...below],
  });
  return {
    c,
    partners: byId(c.partners),
    purposes: byId(c.purposes),
    bases: byId(c.legalBases),
    flags: new Set(c.caseFlags.map((f) => f.id)),
    kinds: new Set(c.partners.map((p) => p.kind)),
    fields: byId(c.fields),
    sections: new Set(c.sections.map((s) => s.id)),
    report: (severity, code, message, src, ...below) => ({
      severity,
      code,
      message,
      position: locate(child(src, below)),
    }),
    where: (src, ...below) => formatPosition(locate(child(src, below))),
  };
}

// ---------------------------------------------------------------------------------------------
// Words
// ---------------------------------------------------------------------------------------------

export const SENSITIVITY_WORDS: Record<Sensitivity, { long: string; short: string; remedy: string }> = {
  ordinary: {
    long: 'ordinary personal data',
    short: 'ordinary personal data',
    remedy: 'an AVG art. 6 basis',
  },
  bsn: {
    long: 'BSN, UAVG art. 46',
    short: 'the BSN',
    remedy: 'a BSN basis such as UAVG art. 46 or the Wabb',
  },
  health: { long: 'health data, AVG art. 9', short: 'health data', remedy: 'an AVG art. 9(2) exception' },
  criminal: {
    long: 'criminal-law data, AVG art. 10',
    short: 'criminal-law data',
    remedy: 'an AVG art. 10 / UAVG art. 33 basis',
  },
  'confidential-address': {
    long: 'confidential address, geheim adres',
    short: 'confidential addresses',
    remedy: 'an explicit basis for confidential addresses',
  },
};

/** "wijkteam", "vtrr and politie", "every partner", "partners of kind zorg". */
export function addressees(rule: Rule): string {
  if (rule.partners === '*') return 'every partner';
  if (rule.partners) return list(rule.partners);
  return `partners of kind ${list(rule.partnerKinds ?? [])}`;
}

export function verbs(actions: readonly Action[]): string {
  return list(actions.filter((a) => a !== 'manage'));
}

/** "a", "a and b", "a, b and c". */
export function list(items: readonly string[]): string {
  const last = items[items.length - 1];
  if (items.length <= 1 || last === undefined) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${last}`;
}
