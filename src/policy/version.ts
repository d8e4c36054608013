import { createHash } from 'node:crypto';
import type { Convenant } from './model.js';

export interface PolicyVersion {
  /** SHA-256 (hex) of the canonical decision-relevant content. */
  hash: string;
  /** `<version>+<first 12 hex of hash>`, e.g. `2026.1+3f2a9c1b0d4e`: what every log entry names. */
  version: string;
}

/**
 * Deterministic JSON: object keys sorted, `undefined` members dropped (so an absent optional key
 * and an explicit `undefined` hash alike), and every array sorted by the canonical form of its
 * elements. Sorting arrays is sound because every list in the
 * convenant model is a set (partners, purposes, rules, a rule's fields or phases, …): the format
 * gives list order no meaning, and deny-overrides makes rule order irrelevant. So splitting the
 * YAML over files or reordering entries keeps the hash; changing any value changes it.
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) {
    return `[${value.map(canonicalJson).sort().join(',')}]`;
  }
  if (value !== null && typeof value === 'object') {
    const members = Object.keys(value)
      .sort()
      .flatMap((k) => {
        const v: unknown = (value as Record<string, unknown>)[k];
        return v === undefined ? [] : [`${JSON.stringify(k)}:${canonicalJson(v)}`];
      });
    return `{${members.join(',')}}`;
  }
  // JSON.stringify gives undefined for functions and symbols; the model holds neither.
  return JSON.stringify(value) ?? 'null';
}

/** Drops every `src` member at any depth: where a rule was written changes no decision. */
function withoutSources(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutSources);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([k]) => k !== 'src')
        .map(([k, v]) => [k, withoutSources(v)]),
    );
  }
  return value;
}

/**
 * The decision-relevant content: everything but the tests (they check decisions, they make
 * none), the folder and file names, and source locations, so moving or splitting files keeps
 * the version.
 */
export function decisionContent(c: Convenant): unknown {
  // Keys added to the format later are left out while empty, so a convenant that does not use
  // them keeps the version it had (log entries and stored texts name it).
  return withoutSources({
    ...c,
    tests: undefined,
    dir: undefined,
    files: undefined,
    personRoles: c.personRoles.length > 0 ? c.personRoles : undefined,
    partners: c.partners.map((p) => ({
      ...p,
      signatories: p.signatories.length > 0 ? p.signatories : undefined,
    })),
  });
}

/** Identifies the rules in force; see "Policy version" in docs/convenant-format.md. */
export function policyVersion(c: Convenant): PolicyVersion {
  const hash = createHash('sha256')
    .update(canonicalJson(decisionContent(c)))
    .digest('hex');
  return { hash, version: `${c.version}+${hash.slice(0, 12)}` };
}
