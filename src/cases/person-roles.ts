import type { Convenant, PersonRole } from '../policy/index.js';
import type { FieldAccess, Situation } from './field-access.js';

/** A person's role as one reader of the case is shown it. */
export interface ShownRole {
  /** The role, or the convenant's general word for it (`person_roles.<role>.shown_as`). */
  role: string;
  /** true when the role is withheld from this reader and `role` is the general word. */
  generalised: boolean;
}

/**
 * How each person role is shown to a reader in a situation (issue 18 point 5: being named
 * `pleger` can be criminal-law data). A role with `disclosed_with` is shown only where the
 * convenant's rules make that field readable for a person of that role; otherwise it becomes its
 * `shown_as` word, and so does every other role sharing that word, so that the word does not
 * betray which role it hides. Decided per situation, not per person, for the same reason.
 */
export function roleView(
  convenant: Convenant,
  access: FieldAccess,
  partner: string,
  purpose: string,
  base: Situation,
): (role: PersonRole) => ShownRole {
  const entries = convenant.personRoles;
  if (entries.length === 0) return (role) => ({ role, generalised: false });
  const withheldWords = new Set(
    entries
      .filter(
        (e) =>
          e.disclosedWith !== undefined &&
          !access.permitted(partner, purpose, 'read', { ...base, role: e.role }).has(e.disclosedWith),
      )
      .map((e) => e.shownAs),
  );
  return (role) => {
    const entry = entries.find((e) => e.role === role);
    return entry && withheldWords.has(entry.shownAs)
      ? { role: entry.shownAs, generalised: true }
      : { role, generalised: false };
  };
}

/**
 * The order persons are listed in. The repository lists them by role; once roles are
 * generalised that order would betray them, so persons shown under one word are listed together
 * (where the first of its roles would stand) and, within it, by their random reference.
 */
export function orderShown<T extends { subjectRef: string; shown: ShownRole }>(persons: readonly T[]): T[] {
  const firstAt = new Map<string, number>();
  persons.forEach((p, i) => {
    if (!firstAt.has(p.shown.role)) firstAt.set(p.shown.role, i);
  });
  return [...persons].sort((a, b) => {
    const group = firstAt.get(a.shown.role)! - firstAt.get(b.shown.role)!;
    if (group !== 0) return group;
    if (!a.shown.generalised) return 0;
    return a.subjectRef < b.subjectRef ? -1 : a.subjectRef > b.subjectRef ? 1 : 0;
  });
}
