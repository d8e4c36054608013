import { createMongoAbility } from '@casl/ability';
import fc from 'fast-check';
import {
  CASE_GUARD_ID,
  PERSON_GUARD_ID,
  PurposeNotAllowedError,
  UnknownPartnerError,
  UnknownPurposeError,
  accessSubject,
  compileConvenant,
  decideField,
  decideManage,
  permittedFields,
  type AccessSubject,
  type AccessSubjectInput,
  type ConvenantRawRule,
  type FieldAction,
} from './compile.js';
import { PERSON_ROLES, PHASES, type CatalogueField, type Convenant, type Rule } from './model.js';
import {
  EXAMPLE_SPEC,
  buildConvenant,
  exampleConvenant,
  type ConvenantSpec,
  type RuleSpec,
} from './testing/convenant-builder.js';
import { convenantArb, subjectArb } from '../../test/support/random-convenant.js';

/** permittedFields gives no order (CASL's set order); compare as sets. */
const permitted = (...args: Parameters<typeof permittedFields>) => new Set(permittedFields(...args));

const participant = (phase: AccessSubjectInput['phase'], extra: Partial<AccessSubjectInput> = {}) =>
  accessSubject({ phase, participant: true, ...extra });

/** A one-partner, one-purpose convenant around the given rules. */
function tiny(rules: RuleSpec[], extra: Partial<ConvenantSpec> = {}): Convenant {
  return buildConvenant({
    caseFlags: ['geheim-adres', 'wapens'],
    partners: [{ id: 'p', kind: 'k', purposes: ['u'] }],
    purposes: [{ id: 'u', legalBases: ['b'], emergency: {} }],
    legalBases: { b: { permits: ['ordinary'] } },
    catalogue: { s: { a: {}, b: {}, c: {} }, t: { x: { level: 'person' } } },
    rules,
    ...extra,
  });
}

describe('compileConvenant', () => {
  describe('deny overrides allow', () => {
    const allow: RuleSpec = { id: 'allow', partner: 'p', can: 'read', fields: ['s.*'] };
    const deny: RuleSpec = { id: 'deny', partner: 'p', cannot: 'read', fields: ['s.b'] };

    it.each([
      ['allow written first', [allow, deny]],
      ['deny written first', [deny, allow]],
    ])('whatever the file order (%s)', (_order, rules) => {
      const ability = compileConvenant(tiny(rules)).abilityFor('p', 'u');
      expect(permitted(ability, 'read', participant('acute'))).toEqual(new Set(['s.a', 's.c']));
      expect(decideField(ability, 'read', participant('acute'), 's.b')).toEqual({
        allowed: false,
        ruleId: 'deny',
        reason: 'Reason of deny.',
      });
    });

    it('emits every allow rule before every deny rule', () => {
      const rules = compileConvenant(
        tiny([deny, allow, { ...deny, id: 'deny2' }, { ...allow, id: 'allow2' }]),
      ).rulesFor('p', 'u');
      expect(rules.map((r) => r.ruleId)).toEqual(['allow', 'allow2', 'deny', 'deny2']);
    });
  });

  describe('wildcards', () => {
    it('expands section and global wildcards against the catalogue at compile time', () => {
      const compiled = compileConvenant(
        tiny([
          { id: 'section', partner: 'p', can: 'read', fields: ['s.*'] },
          { id: 'all', partner: 'p', can: 'write', fields: ['*'] },
        ]),
      );
      expect(compiled.rulesFor('p', 'u').map((r) => r.fields)).toEqual([
        ['s.a', 's.b', 's.c'],
        ['s.a', 's.b', 's.c', 't.x'],
      ]);
    });

    it('lets a field-level deny remove a field that a section wildcard granted', () => {
      const ability = compileConvenant(exampleConvenant()).abilityFor('wijkteam', 'uitvoering-plan');
      expect(permitted(ability, 'read', participant('stabilisatie'))).toEqual(
        new Set(['veiligheid.risiconiveau', 'plan.doelen', 'plan.acties']),
      );
      expect(permitted(ability, 'read', participant('herstel'))).toEqual(
        new Set(['veiligheid.risiconiveau', 'plan.doelen']),
      );
      expect(decideField(ability, 'read', participant('herstel'), 'plan.acties').ruleId).toBe(
        'wijkteam-geen-acties-in-herstel',
      );
    });

    it('drops a rule whose patterns match no field instead of widening it to every field', () => {
      const compiled = compileConvenant(
        tiny([{ id: 'nothing', partner: 'p', can: 'read', fields: ['nope.*'] }]),
      );
      expect(compiled.rulesFor('p', 'u')).toEqual([]);
      expect(permitted(compiled.abilityFor('p', 'u'), 'read', participant('acute'))).toEqual(new Set([]));
    });
  });

  describe('conditions', () => {
    type Case = [
      kind: string,
      rule: RuleSpec['when'],
      matching: AccessSubjectInput,
      notMatching: AccessSubjectInput,
    ];
    const cases: Case[] = [
      [
        'participant',
        { participant: true },
        { phase: 'acute', participant: true },
        { phase: 'acute', participant: false },
      ],
      [
        'phase',
        { phase: ['stabilisatie', 'herstel'] },
        { phase: 'herstel', participant: true },
        { phase: 'acute', participant: true },
      ],
      [
        'person.role',
        { 'person.role': ['kind', 'pleger'] },
        { phase: 'acute', participant: true, role: 'kind' },
        { phase: 'acute', participant: true, role: 'slachtoffer' },
      ],
      [
        'case.flag',
        { 'case.flag': ['geheim-adres', 'wapens'] },
        { phase: 'acute', participant: true, flags: ['wapens', 'geheim-adres'] },
        { phase: 'acute', participant: true, flags: ['wapens'] },
      ],
      [
        'emergency',
        { emergency: true },
        { phase: 'acute', participant: false, emergency: true },
        { phase: 'acute', participant: false, emergency: false },
      ],
    ];

    it.each(cases)(
      '%s: an allow grants when it matches and not otherwise',
      (_kind, when, matching, notMatching) => {
        const field = matching.role ? 't.x' : 's.a';
        const ability = compileConvenant(
          tiny([{ id: 'r', partner: 'p', can: 'read', fields: [field], when }]),
        ).abilityFor('p', 'u');
        expect(permitted(ability, 'read', accessSubject(matching))).toEqual(new Set([field]));
        expect(permitted(ability, 'read', accessSubject(notMatching))).toEqual(new Set([]));
      },
    );

    it.each(cases)(
      '%s: a deny removes when it matches and not otherwise',
      (_kind, when, matching, notMatching) => {
        const field = matching.role ? 't.x' : 's.a';
        const ability = compileConvenant(
          tiny([
            { id: 'grant', partner: 'p', can: 'read', fields: ['*'], when: { participant: 'any' } },
            { id: 'r', partner: 'p', cannot: 'read', fields: [field], when },
          ]),
        ).abilityFor('p', 'u');
        expect(permittedFields(ability, 'read', accessSubject(matching))).not.toContain(field);
        expect(permittedFields(ability, 'read', accessSubject(notMatching))).toContain(field);
      },
    );

    it('maps every `when` key exactly as the format table says, without $or or null', () => {
      const [raw] = compileConvenant(
        tiny([
          {
            id: 'all-conditions',
            partner: 'p',
            can: 'read',
            fields: ['t.x'],
            when: {
              participant: true,
              phase: ['acute'],
              'person.role': ['kind'],
              'case.flag': ['wapens'],
              emergency: true,
            },
          },
        ]),
      ).rulesFor('p', 'u');
      expect(raw?.conditions).toEqual({
        'case.participant': true,
        'case.phase': { $in: ['acute'] },
        'person.role': { $in: ['kind'] },
        'case.flags': { $all: ['wapens'] },
        'access.emergency': true,
      });
    });
  });

  it('drops emergency grants under a purpose without emergency access, but keeps emergency denies', () => {
    const rules: RuleSpec[] = [
      { id: 'doorbraak', partner: 'p', can: 'read', fields: ['s.a'], when: { emergency: true } },
      { id: 'gewoon', partner: 'p', can: 'read', fields: ['s.c'], when: { participant: 'any' } },
      { id: 'nooit-bij-doorbraak', partner: 'p', cannot: 'read', fields: ['s.c'], when: { emergency: true } },
    ];
    const closed = compileConvenant(tiny(rules, { purposes: [{ id: 'u', legalBases: ['b'] }] }));
    const open = compileConvenant(tiny(rules, { purposes: [{ id: 'u', legalBases: ['b'], emergency: {} }] }));
    const wronglyMarked = accessSubject({ phase: 'acute', participant: false, emergency: true });
    expect(closed.rulesFor('p', 'u').map((r) => r.ruleId)).toEqual(['gewoon', 'nooit-bij-doorbraak']);
    expect(permitted(closed.abilityFor('p', 'u'), 'read', wronglyMarked)).toEqual(new Set());
    expect(permitted(open.abilityFor('p', 'u'), 'read', wronglyMarked)).toEqual(new Set(['s.a']));
  });

  describe('participation', () => {
    it('gives a non-participant nothing by default, for every pair and level', () => {
      const c = exampleConvenant();
      const compiled = compileConvenant(c);
      for (const partner of c.partners) {
        for (const purpose of partner.purposes) {
          const ability = compiled.abilityFor(partner.id, purpose);
          for (const phase of PHASES) {
            for (const role of [undefined, ...PERSON_ROLES]) {
              const s = accessSubject({
                phase,
                participant: false,
                flags: ['geheim-adres', 'wapens'],
                ...(role ? { role } : {}),
              });
              expect([partner.id, purpose, phase, role, permittedFields(ability, 'read', s)]).toEqual([
                partner.id,
                purpose,
                phase,
                role,
                [],
              ]);
              expect(permitted(ability, 'write', s)).toEqual(new Set([]));
              expect(decideManage(ability, s).allowed).toBe(false);
            }
          }
        }
      }
    });
  });

  describe('unknown or unregistered pairs fail closed with a typed error', () => {
    const compiled = compileConvenant(exampleConvenant());

    it.each<[string, string, string, new (...args: never[]) => Error, RegExp]>([
      [
        'unknown partner',
        'ggd',
        'triage',
        UnknownPartnerError,
        /Unknown partner 'ggd'\. Known partners: vtrr, wijkteam, politie\./,
      ],
      [
        'unknown purpose',
        'vtrr',
        'reclame',
        UnknownPurposeError,
        /Unknown purpose 'reclame'\. Known purposes: triage, uitvoering-plan/,
      ],
      [
        'purpose not registered',
        'wijkteam',
        'triage',
        PurposeNotAllowedError,
        /not registered for purpose 'triage'.*uitvoering-plan, casusoverleg/,
      ],
    ])('%s', (_what, partner, purpose, errorType, message) => {
      expect(() => compiled.abilityFor(partner, purpose)).toThrow(errorType);
      expect(() => compiled.abilityFor(partner, purpose)).toThrow(message);
      expect(() => compiled.rulesFor(partner, purpose)).toThrow(errorType);
    });
  });

  it('maps each applicable convenant rule to exactly one CASL raw rule', () => {
    const expected: ConvenantRawRule[] = [
      {
        action: ['read'],
        subject: 'Case',
        fields: ['betrokkenen.naam', 'veiligheid.risiconiveau', 'plan.doelen', 'plan.acties'],
        conditions: { 'case.participant': true, 'case.phase': { $in: ['stabilisatie', 'herstel'] } },
        reason: 'Het wijkteam voert het plan uit.',
        ruleId: 'wijkteam-plan',
      },
      {
        action: ['write'],
        subject: 'Case',
        fields: ['plan.doelen', 'plan.acties'],
        conditions: { 'case.participant': true },
        reason: 'Het wijkteam houdt het plan bij.',
        ruleId: 'wijkteam-plan-schrijven',
      },
      {
        action: ['read', 'write'],
        subject: 'Case',
        fields: ['betrokkenen.adres'],
        conditions: { 'person.role': { $in: ['slachtoffer'] }, 'case.flags': { $all: ['geheim-adres'] } },
        inverted: true,
        reason: 'Geheim adres van de opvang wordt nooit gedeeld.',
        ruleId: 'geheim-adres-nooit',
      },
      {
        action: ['read'],
        subject: 'Case',
        fields: ['plan.acties'],
        conditions: { 'case.phase': { $in: ['herstel'] } },
        inverted: true,
        reason: 'In herstel zijn de acties afgerond.',
        ruleId: 'wijkteam-geen-acties-in-herstel',
      },
    ];
    expect(compileConvenant(exampleConvenant()).rulesFor('wijkteam', 'uitvoering-plan')).toEqual(expected);
  });

  it('splits a rule that mixes manage with field actions, so a manage deny still fires', () => {
    const compiled = compileConvenant(
      tiny([
        { id: 'regie', partner: 'p', can: 'manage' },
        { id: 'geen-regie', partner: 'p', cannot: ['read', 'manage'], fields: ['s.a'] },
      ]),
    );
    expect(compiled.rulesFor('p', 'u').filter((r) => r.ruleId === 'geen-regie')).toEqual([
      expect.objectContaining({ action: ['read'], fields: ['s.a'] }),
      expect.not.objectContaining({ fields: expect.anything() }),
    ]);
    expect(decideManage(compiled.abilityFor('p', 'u'), participant('acute'))).toMatchObject({
      allowed: false,
      ruleId: 'geen-regie',
    });
  });

  describe('manage is an ordinary action, not CASL’s wildcard', () => {
    const compiled = compileConvenant(
      tiny([{ id: 'regie', partner: 'p', can: 'manage', when: { participant: 'any' } }]),
    );
    const ability = compiled.abilityFor('p', 'u');
    const subjects = [undefined, ...PERSON_ROLES].map((role) => participant('acute', role ? { role } : {}));

    it('can manage the case', () => {
      expect(decideManage(ability, participant('acute'))).toMatchObject({ allowed: true, ruleId: 'regie' });
    });

    it('grants no read or write of any field', () => {
      for (const s of subjects) {
        for (const action of ['read', 'write'] as const) {
          expect(permitted(ability, action, s)).toEqual(new Set([]));
          for (const field of compiled.convenant.fields) expect(ability.can(action, s, field.id)).toBe(false);
        }
      }
    });

    it('would over-grant with CASL’s default options (the trap this guards against)', () => {
      const naive = createMongoAbility([...compiled.rulesFor('p', 'u')]);
      expect(naive.can('read', participant('acute'), 's.a')).toBe(true);
    });
  });

  describe('levels', () => {
    const ability = compileConvenant(exampleConvenant()).abilityFor('vtrr', 'triage');

    it('decides person-level fields only with a person and case-level fields only without', () => {
      expect(permitted(ability, 'read', participant('acute'))).toEqual(
        new Set(['veiligheid.risiconiveau', 'veiligheid.risicotaxatie']),
      );
      expect(permitted(ability, 'read', participant('acute', { role: 'kind' }))).toEqual(
        new Set(['betrokkenen.naam', 'betrokkenen.bsn', 'betrokkenen.adres', 'zorg.diagnose']),
      );
      expect(decideField(ability, 'read', participant('acute'), 'zorg.diagnose').ruleId).toBe(
        PERSON_GUARD_ID,
      );
      expect(
        decideField(ability, 'read', participant('acute', { role: 'kind' }), 'veiligheid.risiconiveau')
          .ruleId,
      ).toBe(CASE_GUARD_ID);
    });

    it('keeps a role-conditioned deny from being bypassed by leaving the person out', () => {
      const flagged = { flags: ['geheim-adres'] };
      expect(
        permittedFields(ability, 'read', participant('acute', { ...flagged, role: 'slachtoffer' })),
      ).not.toContain('betrokkenen.adres');
      expect(
        permittedFields(ability, 'read', participant('acute', { ...flagged, role: 'pleger' })),
      ).toContain('betrokkenen.adres');
      expect(permittedFields(ability, 'read', participant('acute', flagged))).not.toContain(
        'betrokkenen.adres',
      );
    });

    it('treats an untagged plain subject like a tagged one, without mutating it', () => {
      const plain: AccessSubject = {
        case: { phase: 'acute', participant: true, flags: [] },
        access: { emergency: false },
      };
      expect(permittedFields(ability, 'read', plain)).toEqual(
        permittedFields(ability, 'read', participant('acute')),
      );
      expect(Object.getOwnPropertyNames(plain)).toEqual(['case', 'access']);
    });
  });

  it('compiles once: rule sets and abilities are cached per pair', () => {
    const compiled = compileConvenant(exampleConvenant());
    expect(compiled.abilityFor('vtrr', 'triage')).toBe(compiled.abilityFor('vtrr', 'triage'));
    expect(compiled.rulesFor('vtrr', 'triage')).toBe(compiled.rulesFor('vtrr', 'triage'));
    expect(compiled.abilityFor('vtrr', 'triage')).not.toBe(compiled.abilityFor('vtrr', 'casusoverleg'));
    expect(Object.isFrozen(compiled.rulesFor('vtrr', 'triage'))).toBe(true);
  });

  it('names the policy version', () => {
    const compiled = compileConvenant(exampleConvenant());
    expect(compiled.version).toBe(`${EXAMPLE_SPEC.version}+${compiled.hash.slice(0, 12)}`);
  });
});

/**
 * The convenant semantics written down a second time, as plainly as possible and without CASL or
 * the compiler's helpers: a field is allowed if some applicable allow rule matches and no
 * applicable deny rule does. Person-level fields are decided with a person, case-level without.
 */
function referenceAllows(
  c: Convenant,
  partnerId: string,
  purposeId: string,
  action: FieldAction,
  s: AccessSubject,
  field: CatalogueField,
): boolean {
  const partner = c.partners.find((p) => p.id === partnerId);
  const purpose = c.purposes.find((u) => u.id === purposeId);
  if (!partner?.purposes.includes(purposeId) || !purpose) return false;
  if ((field.level === 'person') !== (s.person !== undefined)) return false;
  const covers = (pattern: string) =>
    pattern === '*' || pattern === `${field.section}.*` || pattern === field.id;
  const targets = (r: Rule) =>
    r.partners === '*' ||
    (r.partners ? r.partners.includes(partner.id) : (r.partnerKinds ?? []).includes(partner.kind));
  const holds = (r: Rule) =>
    (r.when.participant !== true || s.case.participant) &&
    (r.when.phase
      ? r.when.phase.includes(s.case.phase)
      : // An emergency grant without a phase list never reaches into a closed case.
        !(r.effect === 'allow' && r.when.emergency && s.case.phase === 'afgesloten')) &&
    (!r.when.personRole || (s.person !== undefined && r.when.personRole.includes(s.person.role))) &&
    (r.when.caseFlags ?? []).every((f) => s.case.flags.includes(f)) &&
    (!r.when.emergency || s.access.emergency);
  const matching = c.rules.filter(
    (r) =>
      targets(r) &&
      (r.purposes === '*' || r.purposes.includes(purposeId)) &&
      r.actions.includes(action) &&
      r.fields.some((f) => covers(f.pattern)) &&
      holds(r),
  );
  const grants = matching.filter(
    (r) => r.effect === 'allow' && (!r.when.emergency || purpose.emergencyAccess.allowed),
  );
  return grants.length > 0 && !matching.some((r) => r.effect === 'deny');
}

describe('permittedFields against a reference evaluator', () => {
  // The arbitraries live in test/support/random-convenant.ts, shared with decide.spec.ts.
  it('agrees with the reference for random convenants and subjects', () => {
    fc.assert(
      fc.property(convenantArb, fc.array(subjectArb, { minLength: 1, maxLength: 8 }), (c, subjects) => {
        const compiled = compileConvenant(c);
        // Collected and compared once per run: an expect per field would dominate the run time.
        const disagreements: unknown[] = [];
        for (const partner of c.partners) {
          for (const purpose of partner.purposes) {
            const ability = compiled.abilityFor(partner.id, purpose);
            for (const input of subjects) {
              const s = accessSubject(input);
              for (const action of ['read', 'write'] as const) {
                const expected = c.fields
                  .filter((f) => referenceAllows(c, partner.id, purpose, action, s, f))
                  .map((f) => f.id)
                  .sort();
                const actual = permittedFields(ability, action, s).sort();
                const decided = c.fields
                  .filter((f) => decideField(ability, action, s, f.id).allowed)
                  .map((f) => f.id)
                  .sort();
                if (actual.join() !== expected.join() || decided.join() !== expected.join()) {
                  disagreements.push({
                    partner: partner.id,
                    purpose,
                    action,
                    subject: input,
                    expected,
                    actual,
                    decided,
                  });
                }
              }
            }
          }
        }
        expect(disagreements).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });
});
