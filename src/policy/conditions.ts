import { type PersonRole, type Phase, type RuleWhen } from './model.js';
import { list, ROLE_NL } from './render-words.js';

/**
 * The condition kinds a rule's `when` can hold, as one table: per kind its key in the file and
 * its JSON schema fragment (policies/convenant.schema.json, `definitions.when`), how it is read
 * into the model, the CASL condition it compiles to, when one rule's condition covers another's
 * (the shadowed/redundant-rule warnings), and its English and Dutch texts. compile.ts, load-merge.ts,
 * validate-effect.ts, diff.ts and render.ts iterate this table, so adding a kind is one entry
 * (plus its model field and tests): `ConditionTable` makes a missing kind or a half-written entry
 * a compile error, and `checkConditionTable` refuses one at run time too (conditions.spec.ts).
 */

/**
 * The only CASL condition shapes the compiler emits, one per kind. Keys are dot paths because
 * CASL never matches nested condition objects (docs/casl.md trap 3); there is no `$or` (trap 2:
 * CASL reads it as a field name) and no `null` (trap 4: null matches a missing field). A type
 * alias, not an interface, because CASL's MongoQuery needs the implicit index signature.
 */
export type RuleConditions = {
  'case.participant'?: true;
  'case.phase'?: { $in: Phase[] };
  'person.role'?: { $in: PersonRole[] };
  'case.flags'?: { $all: string[] };
  'access.emergency'?: true;
};

type OneOrMany<T> = T | T[];

/** `x` and `[x]` alike (as load-text.ts's `many`; not imported, since load-raw.ts imports this module). */
const many = <T>(value: OneOrMany<T> | undefined): T[] | undefined =>
  value === undefined ? undefined : Array.isArray(value) ? value : [value];

/** A rule's `when` as written in the file, after the schema check (load-raw.ts's RawRule uses it). */
export interface RawWhen {
  participant?: true | 'any';
  phase?: OneOrMany<Phase>;
  'person.role'?: OneOrMany<PersonRole>;
  'case.flag'?: OneOrMany<string>;
  emergency?: true;
}

/** What loading a kind may depend on besides its own value. */
export interface LoadContext {
  effect: 'allow' | 'deny';
  when: RawWhen;
}

/** One condition kind. Every member is required: a half-written entry does not compile. */
export interface ConditionKind<F extends keyof RuleWhen> {
  /** The key under `when:` in a convenant file (and in the schema). */
  readonly key: keyof RawWhen;
  /** The model's field (RuleWhen). */
  readonly field: F;
  /** The schema fragment of `when.<key>`, exactly as in policies/convenant.schema.json. */
  readonly schema: Readonly<Record<string, unknown>>;
  /** Reads the (schema-checked) file value into the model; undefined leaves the field out. */
  load(raw: RawWhen, ctx: LoadContext): RuleWhen[F] | undefined;
  /** The CASL conditions for the model value; {} when it constrains nothing. */
  compile(value: RuleWhen[F]): RuleConditions;
  /** Whether `general` holds in every situation where `specific` holds. */
  covers(general: RuleWhen[F], specific: RuleWhen[F]): boolean;
  /** English: the situations the value stands for ("phases acute, herstel"); undefined: nothing to say. */
  explain(value: RuleWhen[F]): string | undefined;
  /** Dutch, for the rendering of a rule: "in de fase acute"; undefined: nothing to say. */
  render(value: RuleWhen[F]): string | undefined;
}

/** One entry per RuleWhen field, no more, no less. */
export type ConditionTable = { readonly [F in keyof RuleWhen]-?: ConditionKind<F> };

/** Undefined (no condition) covers everything; a list covers a list that is inside it. */
const within = <T>(outer: readonly T[] | undefined, inner: readonly T[] | undefined): boolean =>
  outer === undefined || (inner !== undefined && inner.every((v) => outer.includes(v)));

const oneOrMany = (ref: string, description: string) => ({
  description,
  anyOf: [{ $ref: ref }, { type: 'array', items: { $ref: ref }, uniqueItems: true }],
});

export const CONDITION_KINDS: ConditionTable = {
  phase: {
    key: 'phase',
    field: 'phase',
    schema: oneOrMany(
      '#/definitions/phase',
      'The case phase(s) in which the rule applies: acute, stabilisatie, herstel, afgesloten.',
    ),
    load: (raw) => many(raw.phase),
    compile: (phase) => (phase ? { 'case.phase': { $in: [...phase] } } : {}),
    covers: within,
    explain: (phase) => (phase ? `phase${phase.length === 1 ? '' : 's'} ${phase.join(', ')}` : undefined),
    render: (phase) => (phase ? `in de fase${phase.length > 1 ? 's' : ''} ${list(phase)}` : undefined),
  },
  personRole: {
    key: 'person.role',
    field: 'personRole',
    schema: oneOrMany(
      '#/definitions/role',
      'The role(s) of the person whose data it is: slachtoffer, pleger, kind, gezinslid. Only for person-level fields.',
    ),
    load: (raw) => many(raw['person.role']),
    compile: (roles) => (roles ? { 'person.role': { $in: [...roles] } } : {}),
    covers: within,
    explain: (roles) => (roles ? `role${roles.length === 1 ? '' : 's'} ${roles.join(', ')}` : undefined),
    render: (roles) => (roles ? `voor gegevens van ${list(roles.map((r) => ROLE_NL[r]))}` : undefined),
  },
  participant: {
    key: 'participant',
    field: 'participant',
    schema: {
      description:
        'true: the partner must take part in the case for this purpose now (default for can). any: no such requirement (default for cannot and for emergency rules).',
      enum: [true, 'any'],
    },
    // Deny rules and emergency rules must also hold for partners not (yet) in the case.
    load: (raw, ctx) =>
      raw.participant ?? (ctx.effect === 'allow' && ctx.when.emergency !== true ? true : 'any'),
    compile: (participant) => (participant === true ? { 'case.participant': true } : {}),
    covers: (general, specific) => general === 'any' || specific === true,
    explain: (participant) => (participant === true ? 'as participant' : 'also without taking part'),
    render: (participant) => (participant === true ? 'zolang de partner aan de casus deelneemt' : undefined),
  },
  caseFlags: {
    key: 'case.flag',
    field: 'caseFlags',
    schema: {
      description: 'Case flag(s) that must all be set on the case (declared under case_flags).',
      $ref: '#/definitions/idOrIds',
    },
    load: (raw) => many(raw['case.flag']),
    // `$all: []` matches every array in CASL (vacuously true), which is also what "all of no
    // flags" means; leaving it out says so without relying on that edge.
    compile: (flags) => (flags && flags.length > 0 ? { 'case.flags': { $all: [...flags] } } : {}),
    covers: (general, specific) => (general ?? []).every((flag) => (specific ?? []).includes(flag)),
    explain: (flags) => (flags && flags.length > 0 ? `with flag ${flags.join(', ')}` : undefined),
    render: (flags) => (flags && flags.length > 0 ? `bij casuskenmerk ${list(flags)}` : undefined),
  },
  emergency: {
    key: 'emergency',
    field: 'emergency',
    schema: {
      description: 'true: the rule applies only under emergency access (doorbraak).',
      const: true,
    },
    load: (raw) => raw.emergency,
    compile: (emergency) => (emergency === true ? { 'access.emergency': true } : {}),
    covers: (general, specific) => general === undefined || specific === true,
    explain: (emergency) => (emergency === true ? 'only under doorbraak' : undefined),
    render: (emergency) => (emergency === true ? 'alleen bij een doorbraak' : undefined),
  },
};

const PARTS = ['load', 'compile', 'covers', 'explain', 'render'] as const;

/**
 * The run-time half of the table's guarantee (for entries built from untyped data or cast past
 * the type): every kind has a key, its own field, a schema fragment and every function; keys are
 * unique. Throws on the first problem.
 */
export function checkConditionTable(table: Readonly<Record<string, unknown>>): void {
  const keys = new Set<unknown>();
  for (const [field, entry] of Object.entries(table)) {
    if (entry === null || typeof entry !== 'object')
      throw new Error(`Condition kind '${field}' has no entry.`);
    const kind = entry as Record<string, unknown>;
    if (kind.field !== field)
      throw new Error(`Condition kind '${field}' names field '${String(kind.field)}'.`);
    if (typeof kind.key !== 'string' || kind.key === '')
      throw new Error(`Condition kind '${field}' has no key.`);
    if (keys.has(kind.key)) throw new Error(`Condition key '${kind.key}' is used twice.`);
    keys.add(kind.key);
    if (kind.schema === null || typeof kind.schema !== 'object')
      throw new Error(`Condition kind '${field}' has no schema fragment.`);
    for (const part of PARTS) {
      if (typeof kind[part] !== 'function') throw new Error(`Condition kind '${field}' has no '${part}'.`);
    }
  }
}

checkConditionTable(CONDITION_KINDS);

type AnyKind = { [F in keyof RuleWhen]-?: ConditionKind<F> }[keyof RuleWhen];

/** The kinds in table order (phase, role, participation, flags, doorbraak): the order texts use. */
export const CONDITION_KIND_LIST: readonly AnyKind[] = Object.values(CONDITION_KINDS);

/**
 * Calls `fn` with one kind and the matching value of each `when`; the generic keeps the kind's
 * field and value types together, which indexing the table by a union key would lose.
 */
function eachKind<T>(fn: <F extends keyof RuleWhen>(kind: ConditionKind<F>) => T): T[] {
  return CONDITION_KIND_LIST.map((kind) => fn(kind as ConditionKind<keyof RuleWhen>));
}

/** Reads a rule's `when` from the file. */
export function loadWhen(raw: RawWhen | undefined, effect: 'allow' | 'deny'): RuleWhen {
  const when = raw ?? {};
  const out: Partial<Record<keyof RuleWhen, unknown>> = {};
  eachKind((kind) => {
    const value = kind.load(when, { effect, when });
    if (value !== undefined) out[kind.field] = value;
  });
  return out as unknown as RuleWhen;
}

/** Maps `when` to CASL conditions, kind by kind; undefined when unconditional. */
export function conditionsOf(when: RuleWhen): RuleConditions | undefined {
  const c: RuleConditions = {};
  for (const part of eachKind((kind) => kind.compile(when[kind.field]))) Object.assign(c, part);
  return Object.keys(c).length > 0 ? c : undefined;
}

/**
 * Whether `general` holds in every situation where `specific` holds, judged on the conditions
 * alone: then a rule with `general` conditions is in force whenever one with `specific` is.
 */
export function conditionsCover(general: RuleWhen, specific: RuleWhen): boolean {
  return eachKind((kind) => kind.covers(general[kind.field], specific[kind.field])).every(Boolean);
}

/** English: `phases herstel; roles slachtoffer, kind; as participant; with flag geheim-adres; only under doorbraak`. */
export function explainWhen(when: RuleWhen): string {
  return eachKind((kind) => kind.explain(when[kind.field]))
    .filter((t): t is string => t !== undefined)
    .join('; ');
}

/** Dutch parts of a rule's conditions, for the rendering: ["in de fase acute", "bij casuskenmerk wapens"]. */
export function renderWhen(when: RuleWhen): string[] {
  return eachKind((kind) => kind.render(when[kind.field])).filter((t): t is string => t !== undefined);
}
