import type { CatalogueField, Partner, Rule } from './model.js';

/**
 * Expands a field pattern from a rule or test against the catalogue.
 * `zorg.diagnose` → itself if it exists; `zorg.*` → every field of section zorg; `*` → every field.
 * Returns an empty list when nothing matches, so callers can report "matches nothing".
 * Expansion happens here, at compile time, never inside CASL (docs/casl.md, trap 7).
 */
export function expandFieldPattern(pattern: string, fields: readonly CatalogueField[]): string[] {
  if (pattern === '*') return fields.map((f) => f.id);
  if (pattern.endsWith('.*')) {
    const section = pattern.slice(0, -2);
    return fields.filter((f) => f.section === section).map((f) => f.id);
  }
  return fields.some((f) => f.id === pattern) ? [pattern] : [];
}

/** Expands many patterns, keeping catalogue order and dropping duplicates. */
export function expandFieldPatterns(
  patterns: readonly string[],
  fields: readonly CatalogueField[],
): string[] {
  const wanted = new Set(patterns.flatMap((p) => expandFieldPattern(p, fields)));
  return fields.filter((f) => wanted.has(f.id)).map((f) => f.id);
}

/** Whether a rule addresses this partner (by id, kind or "*"), ignoring purposes. */
export function ruleTargetsPartner(rule: Rule, partner: Partner): boolean {
  if (rule.partners === '*') return true;
  if (rule.partners) return rule.partners.includes(partner.id);
  return rule.partnerKinds?.includes(partner.kind) ?? false;
}

/**
 * Whether a rule applies to a partner acting under a purpose. A rule never applies under a
 * purpose the partner is not registered for: the partner cannot act under it at all.
 */
export function ruleAppliesTo(rule: Rule, partner: Partner, purposeId: string): boolean {
  if (!partner.purposes.includes(purposeId)) return false;
  if (rule.purposes !== '*' && !rule.purposes.includes(purposeId)) return false;
  return ruleTargetsPartner(rule, partner);
}
