import { createMongoAbility, detectSubjectType, subject as tagSubject } from '@casl/ability';
import type { ForcedSubject, MongoAbility } from '@casl/ability';
import { permittedFieldsOf } from '@casl/ability/extra';
import { expandFieldPatterns, ruleAppliesTo } from './match.js';
import { effectiveWhen } from './closing.js';
import { conditionsOf, type RuleConditions } from './conditions.js';
import { PERSON_ROLES } from './model.js';
import type {
  Action,
  CatalogueField,
  Convenant,
  Partner,
  PersonRole,
  Phase,
  Purpose,
  Rule,
  RuleWhen,
} from './model.js';
import { policyVersion } from './version.js';

/**
 * Compiles a convenant into CASL rules, once per policy version, and hands out one cached
 * ability per (partner, purpose). See "How rules become CASL" in docs/convenant-format.md; the
 * "trap n" references are to the CASL v7 traps in docs/casl.md.
 */

/** The CASL subject type of every rule: all decisions are about (fields of) a case. */
export const CASE_SUBJECT = 'Case' as const;

/** Actions that apply to fields, as opposed to `manage`, which applies to the case itself. */
export type FieldAction = Exclude<Action, 'manage'>;
export const FIELD_ACTIONS: readonly FieldAction[] = ['read', 'write'];

/**
 * What a decision looks at. Case-level fields are decided without `person`; person-level fields
 * with the person's role (one subject per person). `flags` are the case flags set on the case.
 */
export interface AccessSubject {
  case: { phase: Phase; participant: boolean; flags: string[] };
  person?: { role: PersonRole };
  access: { emergency: boolean };
}

/** An AccessSubject tagged for CASL with `subject('Case', …)`. */
export type CaseSubject = AccessSubject & ForcedSubject<typeof CASE_SUBJECT>;

/**
 * Checks take a CaseSubject only, never the type string 'Case': against a type string CASL skips
 * conditional denies and over-reports (trap 8), so the type makes that call impossible.
 */
export type ConvenantAbility = MongoAbility<[Action, CaseSubject]>;

export type { RuleConditions } from './conditions.js';

/** A CASL raw rule plus the convenant rule it came from, which `relevantRuleFor` hands back as `origin`. */
export interface ConvenantRawRule {
  action: Action[];
  subject: typeof CASE_SUBJECT;
  /** Literal catalogue field ids: wildcards are expanded at compile time. Absent for `manage`. */
  fields?: string[];
  conditions?: RuleConditions;
  /** Present (and true) only on deny rules. */
  inverted?: true;
  reason: string;
  ruleId: string;
}

/** Conditions of the built-in level guards (see `levelGuards`). */
export type GuardConditions =
  { 'person.role': { $nin: PersonRole[] } } | { 'person.role': { $exists: true } };

export interface GuardRawRule {
  action: FieldAction[];
  subject: typeof CASE_SUBJECT;
  fields: string[];
  conditions: GuardConditions;
  inverted: true;
  reason: string;
  ruleId: string;
}

export interface CompiledConvenant {
  readonly convenant: Convenant;
  /** `<version>+<hash12>`, see policyVersion. */
  readonly version: string;
  readonly hash: string;
  /** The CASL rules for a pair, one per applicable convenant rule: allow rules, then deny rules. */
  rulesFor(partnerId: string, purposeId: string): readonly ConvenantRawRule[];
  /** Built-in deny rules appended to every ability after the convenant's own rules. */
  readonly levelGuards: readonly GuardRawRule[];
  /** The ability for a pair, built once and cached. Throws a PolicyError for an unknown or unregistered pair. */
  abilityFor(partnerId: string, purposeId: string): ConvenantAbility;
  partner(id: string): Partner;
  purpose(id: string): Purpose;
  rule(id: string): Rule | undefined;
  field(id: string): CatalogueField | undefined;
}

/** Base of the compiler's typed errors: every one means "decide nothing" (fail closed). */
export abstract class PolicyError extends Error {
  abstract readonly code: string;
}

const listed = (ids: readonly string[]): string => (ids.length > 0 ? ids.join(', ') : '(none)');

export class UnknownPartnerError extends PolicyError {
  readonly code = 'unknown-partner';
  constructor(
    readonly partnerId: string,
    readonly knownPartners: readonly string[],
  ) {
    super(`Unknown partner '${partnerId}'. Known partners: ${listed(knownPartners)}.`);
    this.name = 'UnknownPartnerError';
  }
}

export class UnknownPurposeError extends PolicyError {
  readonly code = 'unknown-purpose';
  constructor(
    readonly purposeId: string,
    readonly knownPurposes: readonly string[],
  ) {
    super(`Unknown purpose '${purposeId}'. Known purposes: ${listed(knownPurposes)}.`);
    this.name = 'UnknownPurposeError';
  }
}

export class PurposeNotAllowedError extends PolicyError {
  readonly code = 'purpose-not-allowed';
  constructor(
    readonly partnerId: string,
    readonly purposeId: string,
    readonly allowedPurposes: readonly string[],
  ) {
    super(
      `Partner '${partnerId}' is not registered for purpose '${purposeId}'. ` +
        `Its purposes are: ${listed(allowedPurposes)}.`,
    );
    this.name = 'PurposeNotAllowedError';
  }
}

/**
 * CASL treats the action `manage` and the subject type `all` as wildcards by default
 * (`anyAction`/`anySubjectType`): a `manage` rule would then also answer `read` and `write` of
 * every field. Our `manage` means "manage the case", an ordinary action, so both wildcards are
 * pointed at names no rule or check ever uses.
 */
export const ABILITY_OPTIONS = {
  anyAction: '\u0000convenant:no-wildcard-action',
  anySubjectType: '\u0000convenant:no-wildcard-subject',
} as const;

export const PERSON_GUARD_ID = 'builtin:person-field-needs-person';
export const CASE_GUARD_ID = 'builtin:case-field-without-person';

/**
 * Keeps the two levels apart inside CASL itself, so any caller of `can`/`permittedFieldsOf`
 * gets it right. A person-level field asked without a person would otherwise escape a deny that
 * names `person.role` (e.g. geheim adres of the slachtoffer): `$in` on a missing role is false,
 * so the deny never fires. `$nin` on a missing role is true, so the guard does. Case-level
 * fields asked with a person are refused too, so the sets from one case subject and from each
 * person subject never overlap. Ids are not kebab-case, so they cannot clash with a rule id.
 */
function levelGuardsFor(fields: readonly CatalogueField[]): GuardRawRule[] {
  const ids = (level: CatalogueField['level']) => fields.filter((f) => f.level === level).map((f) => f.id);
  const guards: GuardRawRule[] = [];
  const personFields = ids('person');
  const caseFields = ids('case');
  // CASL throws on an empty `fields` array; a catalogue without one of the levels needs no guard.
  if (personFields.length > 0) {
    guards.push({
      action: [...FIELD_ACTIONS],
      subject: CASE_SUBJECT,
      fields: personFields,
      conditions: { 'person.role': { $nin: [...PERSON_ROLES] } },
      inverted: true,
      reason: 'A person-level field is decided per person: the check named no person with a known role.',
      ruleId: PERSON_GUARD_ID,
    });
  }
  if (caseFields.length > 0) {
    guards.push({
      action: [...FIELD_ACTIONS],
      subject: CASE_SUBJECT,
      fields: caseFields,
      conditions: { 'person.role': { $exists: true } },
      inverted: true,
      reason: 'A case-level field is decided for the case, without a person.',
      ruleId: CASE_GUARD_ID,
    });
  }
  return guards;
}

/** Maps `when` to CASL conditions exactly as the format doc's table says; undefined when unconditional. */
export function conditionsFor(when: RuleWhen): RuleConditions | undefined {
  return conditionsOf(when);
}

/**
 * One CASL rule per convenant rule. Two exceptions, both fail-closed:
 * - a rule whose patterns match no catalogue field is dropped: CASL throws on `fields: []`, and
 *   leaving `fields` out would widen it to every field (validation reports such a rule);
 * - a rule naming both `manage` and field actions becomes two CASL rules, because a field-bound
 *   deny never matches a check without a field (CASL `matchesField`), so `cannot manage` would
 *   silently not fire.
 */
export function compileRule(rule: Rule, catalogue: readonly CatalogueField[]): ConvenantRawRule[] {
  const conditions = conditionsFor(effectiveWhen(rule));
  const rest = {
    ...(conditions ? { conditions } : {}),
    ...(rule.effect === 'deny' ? { inverted: true as const } : {}),
    reason: rule.reason,
    ruleId: rule.id,
  };
  const out: ConvenantRawRule[] = [];
  const fieldActions = rule.actions.filter((a): a is FieldAction => a !== 'manage');
  const fields = expandFieldPatterns(
    rule.fields.map((f) => f.pattern),
    catalogue,
  );
  if (fieldActions.length > 0 && fields.length > 0) {
    out.push({ action: fieldActions, subject: CASE_SUBJECT, fields, ...rest });
  }
  if (rule.actions.includes('manage')) out.push({ action: ['manage'], subject: CASE_SUBJECT, ...rest });
  return out;
}

/**
 * An emergency grant has no effect under a purpose that allows no emergency access (validation
 * accepts `purpose: "*"` emergency rules as long as some purpose allows it). Dropping the allow
 * means a subject wrongly marked `emergency` still gets nothing extra; emergency denies are kept,
 * because dropping a deny could only widen access.
 */
function grantsUnderPurpose(rule: Rule, purpose: Purpose): boolean {
  return !(rule.effect === 'allow' && rule.when.emergency === true && !purpose.emergencyAccess.allowed);
}

/** Later CASL rules win (trap 1), so deny rules go last: deny overrides allow whatever the file order. */
function allowThenDeny(rules: readonly ConvenantRawRule[]): ConvenantRawRule[] {
  return [...rules.filter((r) => !r.inverted), ...rules.filter((r) => r.inverted)];
}

const pairKey = (partnerId: string, purposeId: string) => `${partnerId}\u0000${purposeId}`;

export function compileConvenant(convenant: Convenant): CompiledConvenant {
  const { hash, version } = policyVersion(convenant);
  const partners = new Map(convenant.partners.map((p) => [p.id, p]));
  const purposes = new Map(convenant.purposes.map((u) => [u.id, u]));
  const rulesById = new Map(convenant.rules.map((r) => [r.id, r]));
  const fieldsById = new Map(convenant.fields.map((f) => [f.id, f]));
  // Each rule is expanded and mapped once per policy version, never per pair or per request.
  const compiledRules = convenant.rules.map((rule) => ({ rule, raw: compileRule(rule, convenant.fields) }));
  const levelGuards = levelGuardsFor(convenant.fields);

  const partner = (id: string): Partner => {
    const p = partners.get(id);
    if (!p) throw new UnknownPartnerError(id, [...partners.keys()]);
    return p;
  };
  const purpose = (id: string): Purpose => {
    const u = purposes.get(id);
    if (!u) throw new UnknownPurposeError(id, [...purposes.keys()]);
    return u;
  };

  const ruleSets = new Map<string, readonly ConvenantRawRule[]>();
  const abilities = new Map<string, ConvenantAbility>();

  const rulesFor = (partnerId: string, purposeId: string): readonly ConvenantRawRule[] => {
    const key = pairKey(partnerId, purposeId);
    const cached = ruleSets.get(key);
    if (cached) return cached;
    const p = partner(partnerId);
    const u = purpose(purposeId);
    if (!p.purposes.includes(purposeId)) throw new PurposeNotAllowedError(partnerId, purposeId, p.purposes);
    const applies = (rule: Rule) => ruleAppliesTo(rule, p, purposeId) && grantsUnderPurpose(rule, u);
    const rules = Object.freeze(
      allowThenDeny(compiledRules.filter(({ rule }) => applies(rule)).flatMap(({ raw }) => raw)),
    );
    ruleSets.set(key, rules);
    return rules;
  };

  const abilityFor = (partnerId: string, purposeId: string): ConvenantAbility => {
    const key = pairKey(partnerId, purposeId);
    const cached = abilities.get(key);
    if (cached) return cached;
    const ability = createMongoAbility<ConvenantAbility>(
      [...rulesFor(partnerId, purposeId), ...levelGuards],
      ABILITY_OPTIONS,
    );
    abilities.set(key, ability);
    return ability;
  };

  return Object.freeze({
    convenant,
    version,
    hash,
    rulesFor,
    levelGuards,
    abilityFor,
    partner,
    purpose,
    rule: (id: string) => rulesById.get(id),
    field: (id: string) => fieldsById.get(id),
  });
}

export interface AccessSubjectInput {
  phase: Phase;
  participant: boolean;
  flags?: readonly string[];
  /** Give a role to decide person-level fields; leave it out for case-level fields. */
  role?: PersonRole;
  emergency?: boolean;
}

/** A fresh, CASL-tagged subject. Without `role` it has no `person` key at all (never `person: undefined`). */
export function accessSubject(input: AccessSubjectInput): CaseSubject {
  const s: AccessSubject = {
    case: { phase: input.phase, participant: input.participant, flags: [...(input.flags ?? [])] },
    ...(input.role !== undefined ? { person: { role: input.role } } : {}),
    access: { emergency: input.emergency ?? false },
  };
  return tagSubject(CASE_SUBJECT, s);
}

/**
 * Tags a plain subject on a shallow copy, leaving the caller's object alone. An untagged object
 * would be typed by its constructor ('Object'), find no rules and be denied everything; checking
 * against the string 'Case' instead would ignore conditional denies (trap 8). Neither happens.
 */
function asCaseSubject(s: AccessSubject): CaseSubject {
  return detectSubjectType(s) === CASE_SUBJECT ? (s as CaseSubject) : tagSubject(CASE_SUBJECT, { ...s });
}

/** Rules' fields are literal after compile-time expansion, so CASL needs no catalogue here (trap 7). */
const literalFields = (rule: { fields?: string[] }): string[] => rule.fields ?? [];

/**
 * The fields `action` is allowed on for this subject: the request path's one call per subject
 * (~2 µs, vs. one `can` per field at ~20x the cost; docs/performance.md). Returns case-level fields for a
 * subject without person, person-level fields for a subject with one (level guards).
 */
export function permittedFields(ability: ConvenantAbility, action: FieldAction, s: AccessSubject): string[] {
  return permittedFieldsOf(ability, action, asCaseSubject(s), { fieldsFrom: literalFields });
}

export interface FieldDecision {
  allowed: boolean;
  /** The deciding rule; absent when nothing matched (denied by default). */
  ruleId?: string;
  reason?: string;
}

/** The convenant rule id a CASL rule was compiled from (its `origin`), if any. */
export function ruleIdOf(origin: unknown): string | undefined {
  if (
    origin !== null &&
    typeof origin === 'object' &&
    'ruleId' in origin &&
    typeof origin.ruleId === 'string'
  ) {
    return origin.ruleId;
  }
  return undefined;
}

/**
 * One field's decision with the rule that made it, for explanations and the access log. Uses
 * `relevantRuleFor` (the highest-priority matching rule), which agrees with `permittedFields`.
 */
export function decideField(
  ability: ConvenantAbility,
  action: FieldAction,
  s: AccessSubject,
  fieldId: string,
): FieldDecision {
  return decision(ability.relevantRuleFor(action, asCaseSubject(s), fieldId));
}

/** Whether the case may be managed (phase, participations, closing), with the deciding rule. */
export function decideManage(ability: ConvenantAbility, s: AccessSubject): FieldDecision {
  return decision(ability.relevantRuleFor('manage', asCaseSubject(s)));
}

function decision(rule: ReturnType<ConvenantAbility['relevantRuleFor']>): FieldDecision {
  if (!rule) return { allowed: false };
  const ruleId = ruleIdOf(rule.origin);
  return {
    allowed: !rule.inverted,
    ...(ruleId !== undefined ? { ruleId } : {}),
    ...(rule.reason !== undefined ? { reason: rule.reason } : {}),
  };
}
