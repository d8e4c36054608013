import { createMongoAbility } from '@casl/ability';
import fc from 'fast-check';
import schema from '../../policies/convenant.schema.json' with { type: 'json' };
import { ABILITY_OPTIONS, CASE_SUBJECT, accessSubject, type AccessSubjectInput } from './compile.js';
import {
  CONDITION_KINDS,
  CONDITION_KIND_LIST,
  checkConditionTable,
  conditionsCover,
  conditionsOf,
  explainWhen,
  loadWhen,
  renderWhen,
  type ConditionKind,
  type ConditionTable,
} from './conditions.js';
import { PERSON_ROLES, PHASES, type RuleWhen } from './model.js';

const whenSchema = schema.definitions.when as { properties: Record<string, unknown> };

describe('the condition kinds table', () => {
  it('has an entry for every condition key in the JSON schema, and no other, with the same fragment', () => {
    expect(CONDITION_KIND_LIST.map((k) => k.key).sort()).toEqual(Object.keys(whenSchema.properties).sort());
    for (const kind of CONDITION_KIND_LIST)
      expect([kind.key, kind.schema]).toEqual([kind.key, whenSchema.properties[kind.key]]);
  });

  it('refuses a half-written entry: at compile time (the type) and at run time', () => {
    const { covers: _covers, ...noCovers } = CONDITION_KINDS.emergency;
    // @ts-expect-error -- an entry without `covers` is not a ConditionKind
    const half: ConditionKind<'emergency'> = noCovers;
    // @ts-expect-error -- a table without the `emergency` kind is not a ConditionTable
    const missing: ConditionTable = { ...CONDITION_KINDS, emergency: undefined };
    expect(() => checkConditionTable({ ...CONDITION_KINDS, emergency: half })).toThrow(
      "Condition kind 'emergency' has no 'covers'.",
    );
    expect(() => checkConditionTable({ ...CONDITION_KINDS, emergency: missing.emergency })).toThrow(
      "Condition kind 'emergency' has no entry.",
    );
    expect(() =>
      checkConditionTable({ ...CONDITION_KINDS, emergency: { ...CONDITION_KINDS.emergency, key: 'phase' } }),
    ).toThrow("Condition key 'phase' is used twice.");
    expect(() =>
      checkConditionTable({
        ...CONDITION_KINDS,
        emergency: { ...CONDITION_KINDS.emergency, field: 'phase' },
      }),
    ).toThrow("Condition kind 'emergency' names field 'phase'.");
    expect(() => checkConditionTable(CONDITION_KINDS)).not.toThrow();
  });

  it('loads each kind from the file, with participant defaulting by effect and doorbraak', () => {
    expect(loadWhen({ phase: 'acute', 'person.role': ['kind'], 'case.flag': 'wapens' }, 'allow')).toEqual({
      participant: true,
      phase: ['acute'],
      personRole: ['kind'],
      caseFlags: ['wapens'],
    });
    expect(loadWhen(undefined, 'deny')).toEqual({ participant: 'any' });
    expect(loadWhen({ emergency: true }, 'allow')).toEqual({ participant: 'any', emergency: true });
    expect(loadWhen({ participant: true }, 'deny')).toEqual({ participant: true });
  });

  it('compiles each kind to its CASL condition (dot paths, no $or, no null)', () => {
    const when: RuleWhen = {
      participant: true,
      phase: ['acute'],
      personRole: ['kind'],
      caseFlags: ['wapens'],
      emergency: true,
    };
    expect(conditionsOf(when)).toEqual({
      'case.participant': true,
      'case.phase': { $in: ['acute'] },
      'person.role': { $in: ['kind'] },
      'case.flags': { $all: ['wapens'] },
      'access.emergency': true,
    });
    expect(conditionsOf({ participant: 'any', caseFlags: [] })).toBeUndefined();
  });

  it('explains and renders every kind', () => {
    const when: RuleWhen = {
      participant: true,
      phase: ['herstel'],
      personRole: ['slachtoffer', 'kind'],
      caseFlags: ['geheim-adres'],
      emergency: true,
    };
    expect(explainWhen(when)).toBe(
      'phase herstel; roles slachtoffer, kind; as participant; with flag geheim-adres; only under doorbraak',
    );
    expect(renderWhen(when)).toEqual([
      'in de fase herstel',
      'voor gegevens van het slachtoffer en het kind',
      'zolang de partner aan de casus deelneemt',
      'bij casuskenmerk geheim-adres',
      'alleen bij een doorbraak',
    ]);
    expect(renderWhen({ participant: 'any' })).toEqual([]);
  });

  it('covers soundly: when the general conditions cover the specific ones, every situation the specific match, the general match too', () => {
    const FLAGS = ['a', 'b'];
    const whenArb: fc.Arbitrary<RuleWhen> = fc.record(
      {
        participant: fc.constantFrom<RuleWhen['participant']>(true, 'any'),
        phase: fc.subarray([...PHASES]),
        personRole: fc.subarray([...PERSON_ROLES]),
        caseFlags: fc.subarray(FLAGS),
        emergency: fc.constant<true>(true),
      },
      { requiredKeys: ['participant'] },
    );
    const subjectArb: fc.Arbitrary<AccessSubjectInput> = fc.record(
      {
        phase: fc.constantFrom(...PHASES),
        participant: fc.boolean(),
        flags: fc.subarray(FLAGS),
        role: fc.constantFrom(...PERSON_ROLES),
        emergency: fc.boolean(),
      },
      { requiredKeys: ['phase', 'participant', 'flags', 'emergency'] },
    );
    const matches = (when: RuleWhen, s: AccessSubjectInput) => {
      const conditions = conditionsOf(when);
      const ability = createMongoAbility(
        [{ action: 'read', subject: CASE_SUBJECT, ...(conditions ? { conditions } : {}) }],
        ABILITY_OPTIONS,
      );
      return ability.can('read', accessSubject(s));
    };
    let covered = 0;
    fc.assert(
      fc.property(whenArb, whenArb, subjectArb, (general, specific, s) => {
        if (!conditionsCover(general, specific)) return;
        covered++;
        if (matches(specific, s)) expect(matches(general, s)).toBe(true);
      }),
      { numRuns: 2000 },
    );
    expect(covered).toBeGreaterThan(0);
  });
});
