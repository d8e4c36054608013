import { FIELD_ACTIONS, type CompiledConvenant } from './compile.js';
import { decide } from './decide.js';
import { ACTIONS, PERSON_ROLES, PHASES } from './model.js';
import type { Action, Convenant, PersonRole, Phase } from './model.js';

/**
 * What the gateway ENFORCES, spelled out: for every partner × purpose pair and every situation a
 * request can be in (phase, taking part or not, doorbraak or not, case flags, and for
 * person-level fields each person role), the fields each action is allowed on. Computed with the
 * engine's one decision pass (`decide`), the same one the gateway decides with, never by
 * re-reading the YAML.
 * The diff, the matrix and the rendering are all built on this.
 */

export interface AccessSituation {
  phase: Phase;
  participant: boolean;
  emergency: boolean;
  /** Case flags set on the case, sorted. */
  flags: string[];
  /** Present for person-level fields only. */
  role?: PersonRole;
}

/** Which situations exist: shared by two convenants when they are compared. */
export interface SituationUniverse {
  /** Flags whose presence can change a decision; every subset of them is a situation. */
  flags: string[];
}

/** The situations (as keys, see situationKey) in which one action is allowed, per field. */
export type FieldGrants = ReadonlyMap<string, ReadonlySet<string>>;

export interface PairAccess {
  partner: string;
  purpose: string;
  /** Per field action (read, write, …): field id → situations where it is allowed. */
  fields: ReadonlyMap<Action, FieldGrants>;
  /** Per case-level action (manage, …): situations where it is allowed. */
  caseActions: ReadonlyMap<Action, ReadonlySet<string>>;
}

export interface EffectiveAccess {
  convenant: string;
  version: string;
  universe: SituationUniverse;
  /** Sorted by partner, then purpose. */
  pairs: PairAccess[];
}

/** Actions that apply to the case as a whole rather than to a field (today: manage). */
export const CASE_ACTIONS: readonly Action[] = ACTIONS.filter(
  (a) => !(FIELD_ACTIONS as readonly string[]).includes(a),
);

/**
 * More than this many flags that rules depend on would mean 2^n situations per pair; beyond
 * it, flags are taken one at a time (and all together), which still covers every rule naming a
 * single flag. Rotterdam 2026.2 steers rules by five flags, each rule by one: all 32 subsets
 * made the matrix ~12x slower (1.5 s -> 19 s on the shared 2-core box) for no extra precision.
 */
const MAX_FLAG_SUBSET_FLAGS = 4;

export function situationKey(s: AccessSituation): string {
  return [
    s.phase,
    s.participant ? 'participant' : 'not-participant',
    s.emergency ? 'emergency' : 'normal',
    s.flags.join('+'),
    s.role ?? '',
  ].join('|');
}

export function parseSituationKey(key: string): AccessSituation {
  const [phase, participant, emergency, flags, role] = key.split('|');
  return {
    phase: phase as Phase,
    participant: participant === 'participant',
    emergency: emergency === 'emergency',
    flags: flags ? flags.split('+') : [],
    ...(role ? { role: role as PersonRole } : {}),
  };
}

/** The flags any rule's `when` depends on: the only ones whose presence can change a decision. */
export function ruleFlags(convenant: Convenant): string[] {
  return [...new Set(convenant.rules.flatMap((r) => r.when.caseFlags ?? []))].sort();
}

export function universeOf(...convenants: Convenant[]): SituationUniverse {
  return { flags: [...new Set(convenants.flatMap(ruleFlags))].sort() };
}

function flagSets(flags: readonly string[]): string[][] {
  if (flags.length > MAX_FLAG_SUBSET_FLAGS) {
    return [[], ...flags.map((f) => [f]), [...flags]];
  }
  const sets: string[][] = [];
  for (let mask = 0; mask < 1 << flags.length; mask++) {
    sets.push(flags.filter((_, i) => (mask & (1 << i)) !== 0));
  }
  return sets;
}

/** Every case-level situation of the universe, in a fixed order (phase, participation, doorbraak, flags). */
export function caseSituations(universe: SituationUniverse): AccessSituation[] {
  const out: AccessSituation[] = [];
  for (const phase of PHASES) {
    for (const participant of [true, false]) {
      for (const emergency of [false, true]) {
        for (const flags of flagSets(universe.flags)) out.push({ phase, participant, emergency, flags });
      }
    }
  }
  return out;
}

export function effectiveAccess(
  compiled: CompiledConvenant,
  universe: SituationUniverse = universeOf(compiled.convenant),
): EffectiveAccess {
  const c = compiled.convenant;
  const situations = caseSituations(universe);
  const pairs: PairAccess[] = [];
  const partners = [...c.partners].sort((a, b) => a.id.localeCompare(b.id));
  for (const partner of partners) {
    for (const purpose of [...partner.purposes].sort()) {
      if (!c.purposes.some((u) => u.id === purpose)) continue;
      const fields = new Map<Action, Map<string, Set<string>>>(
        FIELD_ACTIONS.map((action) => [action, new Map<string, Set<string>>()]),
      );
      const caseActions = new Map<Action, Set<string>>(
        CASE_ACTIONS.map((action) => [action, new Set<string>()]),
      );
      const grant = (d: ReturnType<typeof decide>, key: string) => {
        for (const action of FIELD_ACTIONS) {
          const grants = fields.get(action)!;
          for (const field of d.allowed[action]) {
            let set = grants.get(field);
            if (!set) grants.set(field, (set = new Set()));
            set.add(key);
          }
        }
      };
      for (const s of situations) {
        // One decision pass per situation (and per role for person-level fields): every action at once.
        const base = { partner: partner.id, purpose, ...s };
        const caseLevel = decide(compiled, base);
        grant(caseLevel, situationKey(s));
        for (const role of PERSON_ROLES)
          grant(decide(compiled, { ...base, role }), situationKey({ ...s, role }));
        // Today `manage` is the only case-level action.
        if (caseLevel.manage.allowed) caseActions.get('manage')?.add(situationKey(s));
      }
      pairs.push({ partner: partner.id, purpose, fields, caseActions });
    }
  }
  return { convenant: c.id, version: compiled.version, universe, pairs };
}

/** A compact, readable summary of a set of situations: what they have in common. */
export interface SituationSummary {
  phases: Phase[];
  /** Person roles, for person-level fields; absent for case-level fields. */
  roles?: PersonRole[];
  /** `required`: only while taking part; `not-required`: also without taking part. */
  participation: 'required' | 'not-required';
  /** `only`: only under doorbraak; `not-required`: also without. */
  emergency: 'only' | 'not-required';
  /** Flags needed in every situation (empty: none needed). */
  flagsNeeded: string[];
  count: number;
}

export function summarise(keys: Iterable<string>): SituationSummary {
  const all = [...keys].map(parseSituationKey);
  const phases = PHASES.filter((p) => all.some((s) => s.phase === p));
  const roles = PERSON_ROLES.filter((r) => all.some((s) => s.role === r));
  const flagsNeeded = [...new Set(all.flatMap((s) => s.flags))]
    .filter((f) => all.every((s) => s.flags.includes(f)))
    .sort();
  return {
    phases,
    ...(roles.length > 0 ? { roles } : {}),
    participation: all.some((s) => !s.participant) ? 'not-required' : 'required',
    emergency: all.some((s) => !s.emergency) ? 'not-required' : 'only',
    flagsNeeded,
    count: all.length,
  };
}
